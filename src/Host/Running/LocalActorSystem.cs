using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ActorTraining.Host.Running;

/// <summary>An actor system of one process (status, the journal check before `train`, evaluate/predict/embed), started with Akka.Hosting.</summary>
public sealed class LocalActorSystem : IAsyncDisposable
{
    readonly IHost _host;

    public ActorSystem System { get; }

    LocalActorSystem(IHost host)
    {
        _host = host;
        System = host.Services.GetRequiredService<ActorSystem>();
    }

    public static async Task<LocalActorSystem> Start(string name, bool verbose, Action<AkkaConfigurationBuilder>? configure = null)
    {
        var host = AkkaSetup.Host(name, verbose, akka => configure?.Invoke(akka));
        await host.StartAsync();
        return new LocalActorSystem(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
