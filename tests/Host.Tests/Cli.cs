using System.Diagnostics;

namespace ActorTraining.Host.Tests;

/// <summary>Runs the real `actortraining` executable built beside the tests, as a child process.</summary>
public static class Cli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => RunIn(Environment.CurrentDirectory, TimeSpan.FromMinutes(10), args);

    public static Result RunIn(string workingDirectory, TimeSpan timeout, params string[] args) =>
        RunWith(new Dictionary<string, string>(), workingDirectory, timeout, args);

    /// <summary>As <see cref="RunIn"/>, with these environment variables set for the child.</summary>
    public static Result RunWith(IReadOnlyDictionary<string, string> environment, string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory };
        foreach (var (key, value) in environment) psi.Environment[key] = value;
        foreach (var a in new[] { Dll }.Concat(args)) psi.ArgumentList.Add(a);
        return Run(psi, timeout, $"actortraining {string.Join(' ', args)}");
    }

    static string Dll => Path.Combine(AppContext.BaseDirectory, "actortraining.dll");

    /// <summary>Another program than actortraining (node, a Slurm command), run as <see cref="RunWith"/> runs it.</summary>
    public static Result RunProgram(string executable, IReadOnlyDictionary<string, string> environment, string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(executable) { WorkingDirectory = workingDirectory };
        foreach (var (key, value) in environment) psi.Environment[key] = value;
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Run(psi, timeout, $"{executable} {string.Join(' ', args)}");
    }

    /// <summary>Runs the child with both streams captured; killed with its children past <paramref name="timeout"/>.</summary>
    static Result Run(ProcessStartInfo psi, TimeSpan timeout, string description)
    {
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{description} did not finish in {timeout}");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// As <see cref="RunIn"/>, with the child's stdout on a pseudo-terminal, as in a person's shell (util-linux
    /// <c>script</c> allocates it and copies what the child writes there to its own stdout, escape sequences and all).
    /// </summary>
    public static Result RunOnTerminal(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        static string Quote(string a) => "'" + a.Replace("'", "'\\''") + "'";
        var command = string.Join(' ', new[] { "dotnet", Dll }.Concat(args).Select(Quote));
        var psi = new ProcessStartInfo("script") { WorkingDirectory = workingDirectory };
        foreach (var a in new[] { "--quiet", "--return", "--command", command, "/dev/null" }) psi.ArgumentList.Add(a);
        return Run(psi, timeout, $"actortraining {string.Join(' ', args)} (on a terminal)");
    }
}
