using System.Text;
using ActorTraining.Host.Configuration;

namespace ActorTraining.Host.Tests.Fuzz;

/// <summary>
/// Seeded generator of bad and odd inputs for every verb: HOCON (truncated, garbled, wrong types, huge and negative
/// numbers, unknown keys), --set overrides, datafiles, label CSVs, audio files, checkpoints, run directories and
/// comparison folders, and raw argument lists. The same seed gives the same cases and the same files.
/// </summary>
public sealed class FuzzCases(TrainedRunFixture run, string scratch, int seed)
{
    readonly Random _random = new(seed);

    static readonly string[] Values =
    [
        "-1", "0", "-0", "1", "1e308", "-1e308", "1e-320", "NaN", "Infinity", "-Infinity", "99999999999999999999", "2147483648",
        "-2147483649", "4294967296", "1.5", "abc", "\"\"", "\"  \"", "[]", "{}", "[1, 2]", "{ a = 1 }", "true", "false", "null",
        "\"/dev/zero\"", "\"/\"", "${undefined}", "\"x\" \"y\"", "0x10", "1_000", "\"\\u0000\"", "\"" + new string('x', 5000) + "\"",
    ];

    static readonly string[] Tokens = ["{", "}", "[", "]", "=", ":", ",", "\"", "\n", "${", "#", "//", "\\", "\u0000", "\uFEFF", "+=", "include \"/etc/passwd\"", "..."];

    static readonly Lazy<string[]> Keys = new(() =>
    {
        var root = Akka.Configuration.ConfigurationFactory.ParseString(ExperimentConfigLoader.DefaultHocon).Root.GetObject();
        var keys = new List<string>();
        void Walk(Akka.Configuration.Hocon.HoconObject o, string prefix)
        {
            foreach (var (name, value) in o.Items)
                if (value.IsObject()) Walk(value.GetObject(), prefix + name + ".");
                else keys.Add(prefix + name);
        }
        Walk(root, "");
        return [.. keys];
    });

    string Clip(string split) => Directory.GetFiles(Path.Combine(run.Corpus.Folder, split), "*.wav", SearchOption.AllDirectories).Order().First();

    T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    string CaseDir(int index)
    {
        var dir = Path.Combine(scratch, $"case-{index:D4}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    string Write(string dir, string name, byte[] bytes)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    string Write(string dir, string name, string text) => Write(dir, name, Encoding.UTF8.GetBytes(text));

    byte[] RandomBytes(int max)
    {
        var bytes = new byte[_random.Next(1, max)];
        _random.NextBytes(bytes);
        return bytes;
    }

    public IEnumerable<FuzzCase> Generate(int count)
    {
        Func<int, FuzzCase>[] kinds = [Argv, Hocon, Override, Datafile, Labels, Audio, Checkpoint, Status, Compare, Fresh];
        for (int i = 0; i < count; i++) yield return Pick(kinds)(i);
    }

    string[] Protected(params string[] args) => ProtectedWith(run.Config, args);

    string[] ProtectedWith(string config, params string[] args) => ["train", "--config", config, "--run-dir", run.RunDir, .. args];

    // ---- raw argument lists ----
    FuzzCase Argv(int i)
    {
        string[] verbs = ["evaluate", "predict", "status", "features", "stats", "compare", "info", "bogus", "", "--version-x", "train"];
        string[] words = ["--run-dir", "--config", "--checkpoint", "--data", "--out", "--top", "--frame-shift-ms", "--mel-bins", "--target-length",
            "--set", "--postgres", "--torch-threads", "--verbose", "-x", "--", "Host=127.0.0.1;Port=1;Database=none;Timeout=2", "Host=127.0.0.1;Port=;",
            run.FinalCheckpoint, run.Corpus.TrainDatafile, "/dev/null", "/", "=", "a=b", "training.batch-size=", "-5", "0", "1e9", "abc", ""];
        var verb = Pick(verbs);
        var args = new List<string> { verb };
        for (int n = _random.Next(0, 5); n > 0; n--) args.Add(Pick(words));
        // train must not start a long default run in the working directory: it always points at the protected run
        if (verb == "train") return new FuzzCase(i, "argv", "train with random arguments on the trained run", [.. args, "--run-dir", run.RunDir], false, run.RunDir);
        return new FuzzCase(i, "argv", "random arguments", [.. args], false);
    }

    // ---- experiment files ----
    FuzzCase Hocon(int i)
    {
        var dir = CaseDir(i);
        var text = File.ReadAllText(run.Config);
        string what;
        switch (_random.Next(7))
        {
            case 0: { int at = _random.Next(text.Length); text = text[..at]; what = $"truncated at {at}"; break; }
            case 1: { var t = Pick(Tokens); int at = _random.Next(text.Length); text = text.Insert(at, t); what = $"'{t.ReplaceLineEndings("\\n")}' inserted at {at}"; break; }
            case 2: { var k = Pick(Keys.Value); var v = Pick(Values); text += $"\n{k} = {v}\n"; what = $"{k} = {Short(v)}"; break; }
            case 3: { var k = "training.batch-sise"; text += $"\n{k} = 4\nmodel {{ colour = blue }}\n"; what = "unknown keys"; break; }
            case 4: { var bytes = RandomBytes(400); return new FuzzCase(i, "hocon", "random bytes as the experiment file", ProtectedWith(Write(dir, "x.hocon", bytes)), false, run.RunDir); }
            case 5: { var v = Pick(Values); text += $"\ncurriculum = [ {{ method = pool, factor = {v}, epochs = {Pick(Values)} }} ]\n"; what = $"a phase with factor {Short(v)}"; break; }
            default: { var path = Pick(new[] { "/dev/null", dir, Path.Combine(dir, "missing.hocon"), "/dev/zero" }); return new FuzzCase(i, "hocon", $"--config {path}", ProtectedWith(path), path != "/dev/null", run.RunDir); }
        }
        return new FuzzCase(i, "hocon", what, ProtectedWith(Write(dir, "experiment.hocon", text)), false, run.RunDir);
    }

    static string Short(string s) => s.Length > 24 ? s[..24] + "…" : s;

    // ---- --set overrides ----
    FuzzCase Override(int i)
    {
        var key = _random.Next(8) == 0 ? Pick(new[] { "training.batch-sise", "model", "data.synthetic", "akka.loglevel", "curriculum[0].factor", "" }) : Pick(Keys.Value);
        var value = Pick(Values).Trim('"');
        return new FuzzCase(i, "set", $"--set {key}={Short(value)}", Protected("--set", $"{key}={value}"), false, run.RunDir);
    }

    // ---- absurd numbers on a new run directory (no journal to refuse them: validation must) ----
    static readonly string[] SizeKeys =
    [
        "model.embed-dim", "model.depth", "model.heads", "model.patch-size", "model.mel-bins", "model.target-length", "training.batch-size",
        "training.num-workers", "training.max-restarts", "curriculum[0].epochs", "front-end.frame-shift-ms", "data.synthetic.train-clips-per-class",
    ];

    FuzzCase Fresh(int i)
    {
        var key = Pick(SizeKeys);
        var value = Pick(new[] { "-5", "-2147483648", "2147483647", "100000000" });
        var dir = Path.Combine(CaseDir(i), "run");
        string[] args = key.StartsWith("curriculum", StringComparison.Ordinal)
            ? ["--set", $"curriculum=[{{method=pool, factor=1, epochs={value}}}]"]
            : key.StartsWith("data.synthetic", StringComparison.Ordinal) ? ["--set", "data.source=synthetic", "--set", $"{key}={value}"] : ["--set", $"{key}={value}"];
        return new FuzzCase(i, "fresh", $"a new run with {key} = {value}", ["train", "--config", run.Config, "--run-dir", dir, .. args], true);
    }

    // ---- datafiles: given to stats, evaluate, and train (its data path is not part of the run's identity) ----
    FuzzCase Datafile(int i)
    {
        var dir = CaseDir(i);
        var good = run.Corpus.TrainDatafile;
        var wav = Clip("train");
        var (text, what, mustFail) = _random.Next(14) switch
        {
            0 => (Encoding.UTF8.GetString(RandomBytes(300)), "random bytes", true),
            1 => (File.ReadAllText(good)[..(_random.Next(File.ReadAllText(good).Length - 1))], "truncated", true),
            2 => ("""{"data": 5}""", "data is a number", true),
            3 => ($$"""{"data":[{"wav": 5, "labels": "/t/up_chirp"}]}""", "wav is a number", true),
            4 => ($$"""{"data":[{"wav": "{{wav}}", "labels": ["/t/up_chirp"]}]}""", "labels is a list", true),
            5 => ($$"""{"data":[null, {"wav": "{{wav}}", "labels": "/t/up_chirp"}]}""", "a null entry", true),
            6 => ($$"""{"data":[{"labels": "/t/up_chirp"}]}""", "no wav", true),
            7 => ($$"""{"data":[{"wav": "{{wav}}"}]}""", "no labels", true),
            8 => ($$"""{"data":[{"wav": "{{wav}}", "labels": "/m/zebra"}]}""", "unknown label", false),
            9 => ($$"""{"data":[{"wav": "{{wav}}", "labels": "/t/up_chirp"}, {"wav": "{{wav}}", "labels": "/t/up_chirp"}]}""", "a duplicate entry", false),
            10 => ($$"""{"data":[{"wav": "{{Pick(new[] { dir, "/dev/zero", "/dev/null", "/proc/self/mem", "" })}}", "labels": "/t/up_chirp"}]}""", "wav is a directory or a device", true),
            11 => ($$"""{"data":[{"wav": "a\u0000b.wav", "labels": "/t/up_chirp"}]}""", "a NUL in the path", true),
            12 => (new string('[', 5000), "nested 5000 deep", true),
            _ => ($$"""{"data":[{"wav": "{{wav}}", "labels": "/t/up_chirp,,"}], "extra": {"deep": [1, 2]} }""", "empty label among labels", false),
        };
        var file = Write(dir, "data.json", text);
        return _random.Next(3) switch
        {
            0 => new FuzzCase(i, "datafile", $"stats on a datafile with {what}", ["stats", file, "--target-length", "64"], mustFail),
            1 => new FuzzCase(i, "datafile", $"evaluate on a datafile with {what}", ["evaluate", "--checkpoint", run.FinalCheckpoint, "--data", file], mustFail),
            _ => new FuzzCase(i, "datafile", $"train on a datafile with {what}", Protected("--set", $"data.train={file}"), true, run.RunDir),
        };
    }

    // ---- label CSVs ----
    FuzzCase Labels(int i)
    {
        var dir = CaseDir(i);
        var good = File.ReadAllText(run.Corpus.LabelCsv);
        var (text, what, mustFail) = _random.Next(9) switch
        {
            0 => ("", "empty", true),
            1 => ("index,mid,display_name\n", "header only", true),
            2 => ("index,mid\n0,/t/up_chirp\n", "a missing column", true),
            3 => (good + "0,/m/dup,\"dup\"\n", "a duplicate index", true),
            4 => ("index,mid,display_name\nx,/t/up_chirp,\"a\"\n", "an index that is not a number", true),
            5 => ("index,mid,display_name\n0,/t/up_chirp,\"unbalanced\n", "an unbalanced quote", true),
            6 => ("\uFEFF" + good, "a byte-order mark (as spreadsheets write it: the same labels)", false),
            7 => ("index,mid,display_name\n5,/t/up_chirp,\"a\"\n-1,/t/down_chirp,\"b\"\n", "indices with gaps and a negative one", true),
            _ => (good[..(_random.Next(good.Length))], "truncated", false),
        };
        var file = Write(dir, "labels.csv", text);
        return new FuzzCase(i, "labels", $"train with a label csv with {what}", Protected("--set", $"data.labels={file}"), mustFail, run.RunDir);
    }

    // ---- audio files ----
    FuzzCase Audio(int i)
    {
        var dir = CaseDir(i);
        var good = File.ReadAllBytes(Clip("train"));
        var (bytes, what) = _random.Next(9) switch
        {
            0 => (RandomBytes(5000), "random bytes"),
            1 => (good[..(_random.Next(1, 60))], "a truncated header"),
            2 => (good[..(_random.Next(60, good.Length))], "truncated data"),
            3 => (Wav(Pick(new short[] { 1, 3, 0xFE, 0, 7 }), Pick(new short[] { 0, 1, 2, 255, -1 }), Pick(new[] { 0, 1, 8000, 16000, int.MaxValue, -1 }),
                Pick(new short[] { 0, 1, 8, 12, 16, 24, 32, 64, 255 }), Pick(new[] { 0, 100, 1000, int.MaxValue, -1 }), RandomBytes(2000)), "absurd WAV header values"),
            4 => ([.. "ID3"u8, .. RandomBytes(3000)], "an ID3 tag and noise"),
            5 => ([.. "fLaC"u8, .. RandomBytes(3000)], "a FLAC marker and noise"),
            6 => ([.. "OggS"u8, .. RandomBytes(3000)], "an Ogg marker and noise"),
            7 => ([0, 0, 0, 0x20, .. "ftypisom"u8, .. RandomBytes(3000)], "an MP4 marker and noise"),
            _ => (Flip(good, 44), "a bit flipped in the header"),
        };
        var file = _random.Next(12) == 0 ? Pick(new[] { "", dir, "/dev/zero", "/dev/urandom" }) : Write(dir, Pick(new[] { "a.wav", "a.mp3", "a.flac", "a.ogg", "a" }), bytes);
        if (_random.Next(2) == 0)
            return new FuzzCase(i, "audio", $"features of {what}", ["features", file, "--out", Path.Combine(dir, "x.npy")], false);
        return new FuzzCase(i, "audio", $"predict on {what}", ["predict", "--checkpoint", run.FinalCheckpoint, file], false);
    }

    byte[] Flip(byte[] bytes, int within)
    {
        var copy = (byte[])bytes.Clone();
        int at = _random.Next(Math.Min(within, copy.Length));
        copy[at] ^= (byte)(1 << _random.Next(8));
        return copy;
    }

    static byte[] Wav(short tag, short channels, int rate, short bits, int dataBytes, byte[] payload)
    {
        using var s = new MemoryStream();
        using var w = new BinaryWriter(s);
        w.Write("RIFF"u8); w.Write(36 + payload.Length); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write(tag); w.Write(channels); w.Write(rate);
        w.Write(rate * channels * (bits / 8)); w.Write((short)(channels * (bits / 8))); w.Write(bits);
        w.Write("data"u8); w.Write(dataBytes); w.Write(payload);
        return s.ToArray();
    }

    // ---- checkpoints ----
    FuzzCase Checkpoint(int i)
    {
        var dir = CaseDir(i);
        var good = File.ReadAllBytes(run.FinalCheckpoint);
        var (path, what) = _random.Next(7) switch
        {
            0 => (Write(dir, "c.ckpt", good[..(_random.Next(good.Length))]), "truncated"),
            1 => (Write(dir, "c.ckpt", Flip(good, good.Length)), "with a bit flipped"),
            2 => (Write(dir, "c.ckpt", Flip(good, 400)), "with a bit flipped in its head"),
            3 => (Write(dir, "c.ckpt", RandomBytes(3000)), "of random bytes"),
            4 => (Write(dir, "c.ckpt", []), "empty"),
            5 => (Write(dir, "c.ckpt", "{\"model\": {}}"), "a JSON file"),
            _ => (Pick(new[] { dir, "/dev/zero", "/dev/null", Path.Combine(dir, "missing.ckpt"), "", " " }), "a directory, a device, missing or empty"),
        };
        var audio = Clip("eval");
        return _random.Next(2) == 0
            ? new FuzzCase(i, "checkpoint", $"evaluate a checkpoint {what}", ["evaluate", "--checkpoint", path, "--data", run.Corpus.EvalDatafile], true)
            : new FuzzCase(i, "checkpoint", $"predict with a checkpoint {what}", ["predict", "--checkpoint", path, audio], true);
    }

    // ---- run directories for status ----
    FuzzCase Status(int i)
    {
        var dir = CaseDir(i);
        var target = Path.Combine(dir, "run");
        Directory.CreateDirectory(target);
        var journal = File.ReadAllBytes(Path.Combine(run.RunDir, "journal.db"));
        var runId = File.ReadAllText(Path.Combine(run.RunDir, "run-id"));
        string what;
        switch (_random.Next(7))
        {
            case 0: File.WriteAllBytes(Path.Combine(target, "journal.db"), RandomBytes(5000)); File.WriteAllText(Path.Combine(target, "run-id"), runId); what = "a journal of random bytes"; break;
            case 1: File.WriteAllBytes(Path.Combine(target, "journal.db"), journal[..(_random.Next(journal.Length))]); File.WriteAllText(Path.Combine(target, "run-id"), runId); what = "a truncated journal"; break;
            case 2: File.WriteAllBytes(Path.Combine(target, "journal.db"), journal); File.WriteAllText(Path.Combine(target, "run-id"), Encoding.UTF8.GetString(RandomBytes(40))); what = "a garbled run-id"; break;
            case 3: File.WriteAllBytes(Path.Combine(target, "journal.db"), journal); Directory.CreateDirectory(Path.Combine(target, "run-id")); what = "a run-id that is a directory"; break;
            case 4: File.WriteAllBytes(Path.Combine(target, "journal.db"), Flip(journal, journal.Length)); File.WriteAllText(Path.Combine(target, "run-id"), runId); what = "a journal with a bit flipped"; break;
            case 5: return new FuzzCase(i, "status", "status of the trained run", ["status", "--run-dir", run.RunDir], false, run.RunDir);
            default: target = Pick(new[] { "/dev/null", Path.Combine(dir, "missing"), run.Config, "" }); what = "not a directory"; break;
        }
        return new FuzzCase(i, "status", $"status of a run directory with {what}", ["status", "--run-dir", target], false);
    }

    // ---- comparison folders ----
    FuzzCase Compare(int i)
    {
        var dir = CaseDir(i);
        var metrics = File.ReadAllText(Path.Combine(run.RunDir, "metrics.jsonl"));
        var (text, what) = _random.Next(5) switch
        {
            0 => (metrics[..(_random.Next(metrics.Length))], "truncated"),
            1 => (Encoding.UTF8.GetString(RandomBytes(500)), "random bytes"),
            2 => ("{\"run\": 5, \"epoch\": \"x\"}\n", "wrong field types"),
            3 => ("\n\n\n", "empty lines"),
            _ => (metrics.Replace("\"", ""), "no quotes"),
        };
        Write(dir, "metrics.jsonl", text);
        return new FuzzCase(i, "compare", $"compare a metrics.jsonl with {what}", ["compare", dir], false);
    }
}
