namespace ActorTraining.Compute.Data;

/// <summary>Reads AST's class_labels_indices.csv: header "index,mid,display_name", then one row per class in index order.</summary>
public static class LabelCsv
{
    /// <summary>A label list of AudioSet size is 30 kB; a file far larger is the wrong file.</summary>
    const long MaxBytes = 64 << 20;

    public static LabelSet Load(string classLabelsIndicesCsv)
    {
        var file = Path.GetFullPath(classLabelsIndicesCsv);
        if (InputFile.Problem(file, MaxBytes) is { } problem) throw new DatasetException(file, problem);
        if (!File.Exists(file)) throw new DatasetException(file, "label csv not found");
        var lines = File.ReadAllLines(file);
        if (lines.Length == 0) throw new DatasetException(file, "empty label csv (expected header index,mid,display_name)");
        var header = SplitCsvLine(lines[0]).Select(h => h.Trim().ToLowerInvariant()).ToList();
        int iIndex = header.IndexOf("index"), iMid = header.IndexOf("mid"), iName = header.IndexOf("display_name");
        if (iIndex < 0 || iMid < 0 || iName < 0)
            throw new DatasetException(file, $"header must have columns index,mid,display_name; found '{lines[0]}'");
        var mids = new List<string>();
        var names = new List<string>();
        for (int row = 1; row < lines.Length; row++)
        {
            if (string.IsNullOrWhiteSpace(lines[row])) continue;
            var cells = SplitCsvLine(lines[row]);
            int needed = Math.Max(iIndex, Math.Max(iMid, iName)) + 1;
            if (cells.Count < needed)
                throw new DatasetException(file, $"line {row + 1} has {cells.Count} columns, expected {header.Count}: '{lines[row]}'");
            if (!int.TryParse(cells[iIndex].Trim(), out var index))
                throw new DatasetException(file, $"line {row + 1}: index '{cells[iIndex]}' is not an integer");
            if (index != mids.Count)
                throw new DatasetException(file, $"line {row + 1}: index {index} out of order, expected {mids.Count}");
            var mid = cells[iMid].Trim();
            if (mid.Length == 0) throw new DatasetException(file, $"line {row + 1}: empty mid");
            if (mids.Contains(mid)) throw new DatasetException(file, $"line {row + 1}: mid '{mid}' appears twice");
            mids.Add(mid);
            names.Add(cells[iName].Trim());
        }
        if (mids.Count == 0) throw new DatasetException(file, "label csv has a header but no classes");
        return new LabelSet(mids, names);
    }

    /// <summary>RFC 4180 fields: display names like "Accelerating, revving, vroom" are quoted.</summary>
    internal static List<string> SplitCsvLine(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells;
    }
}
