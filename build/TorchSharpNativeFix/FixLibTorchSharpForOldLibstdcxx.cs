// MSBuild inline task; see TorchSharpNativeFix.targets beside this file for why it exists and when to delete it.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class FixLibTorchSharpForOldLibstdcxx : Task
{
    [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string ShimSource { get; set; } = "";

    const string ShimName = "libactortraining_glibcxx_shim.so";
    const string FixableVersion = "GLIBCXX_3.4.32";
    const uint ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        try
        {
            var libstdcxx = FindSystemLibstdcxx();
            var provided = new HashSet<string>(ReadVersionDefinitions(File.ReadAllBytes(libstdcxx)));
            foreach (var item in Libraries)
            {
                var lib = item.GetMetadata("FullPath");
                var missing = ReadVersionNeeds(File.ReadAllBytes(lib), "libstdc++.so.6")
                    .Select(n => n.Name).Where(v => !provided.Contains(v)).Distinct().ToList();
                if (missing.Count == 0)
                {
                    Log.LogMessage(MessageImportance.Low, $"TorchSharpNativeFix: {libstdcxx} provides every version {lib} needs; nothing to do.");
                    continue;
                }
                if (missing.Any(v => v != FixableVersion))
                {
                    Log.LogError($"TorchSharpNativeFix: {lib} needs {string.Join(", ", missing)} from libstdc++, but {libstdcxx} lacks them; " +
                                 $"only {FixableVersion} (std::ios_base_library_init) can be shimmed. Install a newer libstdc++ or a TorchSharp build for this system.");
                    return false;
                }
                Patch(lib);
            }
            return !Log.HasLoggedErrors;
        }
        catch (Exception e)
        {
            Log.LogError($"TorchSharpNativeFix: cannot patch libLibTorchSharp.so for this system's libstdc++: {e.Message}");
            return false;
        }
    }

    void Patch(string lib)
    {
        var dir = Path.GetDirectoryName(lib)!;
        var shim = Path.Combine(dir, ShimName);
        if (!File.Exists(shim) || File.GetLastWriteTimeUtc(shim) < File.GetLastWriteTimeUtc(ShimSource))
            Run("g++", $"-shared -fPIC -O2 -o \"{shim}\" \"{ShimSource}\"", "install it with: apt-get install g++");

        var needed = Run("patchelf", $"--print-needed \"{lib}\"", "install it with: apt-get install patchelf");
        if (!needed.Split('\n').Select(s => s.Trim()).Contains(ShimName))
            Run("patchelf", $"--add-needed {ShimName} \"{lib}\"", "install it with: apt-get install patchelf");

        // Re-read after patchelf: it may have moved sections.
        var bytes = File.ReadAllBytes(lib);
        var changed = false;
        foreach (var need in ReadVersionNeeds(bytes, "libstdc++.so.6").Where(n => n.Name == FixableVersion))
        {
            var flags = BitConverter.ToUInt16(bytes, need.FlagsOffset);
            if ((flags & VerFlgWeak) != 0) continue;
            BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(bytes, need.FlagsOffset);
            changed = true;
        }
        if (changed) File.WriteAllBytes(lib, bytes);
        Log.LogMessage(MessageImportance.Normal, $"TorchSharpNativeFix: {lib} now tolerates a missing {FixableVersion} and loads {ShimName}.");
    }

    string Run(string tool, string args, string hint)
    {
        var psi = new ProcessStartInfo(tool, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        Process p;
        try { p = Process.Start(psi)!; }
        catch (Exception) { throw new InvalidOperationException($"'{tool}' was not found; {hint}."); }
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"'{tool} {args}' failed ({p.ExitCode}): {stderr.Trim()}");
        return stdout;
    }

    static string FindSystemLibstdcxx()
    {
        try
        {
            var psi = new ProcessStartInfo("/sbin/ldconfig", "-p") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            var line = output.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith("libstdc++.so.6 ") && l.Contains("x86-64"))
                       ?? output.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith("libstdc++.so.6 "));
            if (line != null && line.Contains("=>")) return line.Substring(line.IndexOf("=>") + 2).Trim();
        }
        catch (Exception) { }
        foreach (var candidate in new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" })
            if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException("libstdc++.so.6 was not found via ldconfig or in the usual library folders");
    }

    record struct Section(uint Type, long Offset, long Size, uint Link, uint Info);
    record struct VersionNeed(string Name, int FlagsOffset);

    static List<Section> ReadSections(byte[] b)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        long shoff = BitConverter.ToInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        var list = new List<Section>();
        for (int i = 0; i < shnum; i++)
        {
            int h = checked((int)(shoff + (long)i * shentsize));
            list.Add(new Section(BitConverter.ToUInt32(b, h + 4), BitConverter.ToInt64(b, h + 0x18), BitConverter.ToInt64(b, h + 0x20),
                                 BitConverter.ToUInt32(b, h + 0x28), BitConverter.ToUInt32(b, h + 0x2C)));
        }
        return list;
    }

    static string ReadString(byte[] b, Section strtab, uint offset)
    {
        int start = checked((int)(strtab.Offset + offset)), end = start;
        while (b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, start, end - start);
    }

    static IEnumerable<string> ReadVersionDefinitions(byte[] b)
    {
        var sections = ReadSections(b);
        foreach (var s in sections.Where(s => s.Type == ShtGnuVerdef))
        {
            var strtab = sections[(int)s.Link];
            long at = s.Offset;
            for (uint i = 0; i < s.Info; i++)
            {
                int d = checked((int)at);
                uint aux = BitConverter.ToUInt32(b, d + 12), next = BitConverter.ToUInt32(b, d + 16);
                yield return ReadString(b, strtab, BitConverter.ToUInt32(b, d + (int)aux));
                if (next == 0) break;
                at += next;
            }
        }
    }

    static List<VersionNeed> ReadVersionNeeds(byte[] b, string fromFile)
    {
        var sections = ReadSections(b);
        var result = new List<VersionNeed>();
        foreach (var s in sections.Where(s => s.Type == ShtGnuVerneed))
        {
            var strtab = sections[(int)s.Link];
            long at = s.Offset;
            for (uint i = 0; i < s.Info; i++)
            {
                int n = checked((int)at);
                ushort cnt = BitConverter.ToUInt16(b, n + 2);
                string file = ReadString(b, strtab, BitConverter.ToUInt32(b, n + 4));
                uint aux = BitConverter.ToUInt32(b, n + 8), next = BitConverter.ToUInt32(b, n + 12);
                long a = at + aux;
                for (int j = 0; j < cnt; j++)
                {
                    int x = checked((int)a);
                    if (file == fromFile) result.Add(new VersionNeed(ReadString(b, strtab, BitConverter.ToUInt32(b, x + 8)), x + 4));
                    uint anext = BitConverter.ToUInt32(b, x + 12);
                    if (anext == 0) break;
                    a += anext;
                }
                if (next == 0) break;
                at += next;
            }
        }
        return result;
    }
}
