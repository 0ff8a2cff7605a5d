using System.Text;

namespace ActorTraining.Compute.Reporting;

/// <summary>Plain aligned text table: first row is the header; text columns left-aligned, numbers right-aligned.</summary>
public static class TextTable
{
    public static string Format(IReadOnlyList<string[]> rows)
    {
        int columns = rows.Max(r => r.Length);
        var widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => c < r.Length ? r[c].Length : 0)).ToArray();
        bool Numeric(int c) => rows.Skip(1).All(r => c >= r.Length || r[c].Length == 0 || char.IsDigit(r[c][0]) || r[c][0] == '-' || r[c] == "n/a");
        var sb = new StringBuilder();
        for (int i = 0; i < rows.Count; i++)
        {
            var cells = Enumerable.Range(0, columns).Select(c =>
            {
                var text = c < rows[i].Length ? rows[i][c] : "";
                return Numeric(c) && i > 0 ? text.PadLeft(widths[c]) : text.PadRight(widths[c]);
            });
            sb.AppendLine(string.Join("  ", cells).TrimEnd());
            if (i == 0) sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
        return sb.ToString();
    }
}
