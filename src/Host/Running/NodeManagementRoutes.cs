using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Http.Dsl;
using Akka.Management.Dsl;
using ActorTraining.Messages;
using Ceen;
using Route = System.ValueTuple<string, Akka.Http.Dsl.HttpModuleBase>;

namespace ActorTraining.Host.Running;

/// <summary>
/// This node's routes on its Akka.Management endpoint, GET only: <c>/alive</c> (200 while the actor system runs, 503
/// once it shuts down), <c>/ready</c> (200 once this node's ranks are registered with the run's coordinator, else 503
/// with <c>registering</c> or <c>ended</c>) and <c>/cluster/members</c> (the membership view, in the fields of
/// Akka.Management's JVM route). The endpoint has no authentication, so it tells no more than a probe, an operator
/// and a joining peer need: addresses and states, never the run's identity, paths, configuration or progress, and
/// nothing on it changes the cluster.
/// </summary>
public sealed class NodeManagementRoutes(ExtendedActorSystem system) : IManagementRouteProvider
{
    /// <summary>How long /ready waits for the node's ranks to answer; a stuck node is not ready.</summary>
    static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);

    public Route[] Routes(ManagementRouteProviderSettings settings) =>
    [
        ("/alive", new Get(async () => Terminating ? (503, "stopping") : (200, "alive"))),
        ("/ready", new Get(Ready)),
        ("/cluster/members", new Get(async () => (200, Members()))),
    ];

    bool Terminating => system.WhenTerminated.IsCompleted || CoordinatedShutdown.Get(system).ShutdownReason is not null;

    async Task<(int, string)> Ready()
    {
        if (Terminating) return (503, "stopping");
        try
        {
            var readiness = await system.ActorSelection("/user/ranks").Ask<Readiness>(new GetReadiness(), AskTimeout);
            return (readiness.Ready ? 200 : 503, readiness.State);
        }
        catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException)
        {
            return (503, "registering");
        }
    }

    string Members()
    {
        var state = Cluster.Get(system).State;
        var oldest = state.Members.Where(m => m.Status == MemberStatus.Up).OrderBy(m => m, Member.AgeOrdering).FirstOrDefault();
        return JsonSerializer.Serialize(new
        {
            selfNode = Cluster.Get(system).SelfAddress.ToString(),
            leader = state.Leader?.ToString(),
            oldest = oldest?.Address.ToString(),
            members = state.Members.Select(m => new { node = m.Address.ToString(), status = m.Status.ToString(), roles = m.Roles.Order().ToArray() }),
            unreachable = state.Unreachable.Select(m => new { node = m.Address.ToString(), status = m.Status.ToString() }),
        });
    }

    /// <summary>A GET route answering with a status and a body (text, or JSON when it starts with '{').</summary>
    sealed class Get(Func<Task<(int Status, string Body)>> answer) : HttpModuleBase
    {
        public override async Task<bool> HandleAsync(IAkkaHttpContext context)
        {
            if (!string.Equals(context.HttpContext.Request.Method, "GET", StringComparison.OrdinalIgnoreCase)) return false;
            var (status, body) = await answer();
            context.HttpContext.Response.StatusCode = (HttpStatusCode)status;
            if (body.StartsWith('{')) await context.HttpContext.Response.WriteAllJsonAsync(body);
            else await context.HttpContext.Response.WriteAllAsync(body + "\n", "text/plain; charset=utf-8");
            return true;
        }
    }
}
