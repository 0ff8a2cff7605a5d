using System.Text;
using System.Text.Json;

namespace ActorTraining.Compute.Data;

/// <summary>
/// JSON tokens read one at a time from a stream through <see cref="Utf8JsonReader"/>, so a datafile of millions of
/// entries never sits in memory: the buffer holds a window of the file and grows only to fit one token.
/// Malformed JSON becomes a <see cref="DatasetException"/> naming the file and line.
/// </summary>
internal sealed class StreamingJsonReader(Stream stream, string file)
{
    static readonly JsonReaderOptions Options = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    byte[] _buffer = new byte[64 * 1024];
    int _start, _end;
    bool _final;
    JsonReaderState _state = new(Options);

    public JsonTokenType Token { get; private set; } = JsonTokenType.None;

    /// <summary>The current string or property name (null for other tokens).</summary>
    public string? Text { get; private set; }

    /// <summary>The current number, true, false or null as written (null for other tokens).</summary>
    public string? Literal { get; private set; }

    /// <summary>Next token; false at the end of the document.</summary>
    public bool Read()
    {
        while (true)
        {
            try
            {
                var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _final, _state);
                if (reader.Read())
                {
                    Token = reader.TokenType;
                    Text = Token is JsonTokenType.String or JsonTokenType.PropertyName ? reader.GetString() : null;
                    Literal = Token is JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null
                        ? Encoding.UTF8.GetString(reader.ValueSpan) : null;
                    _start += (int)reader.BytesConsumed;
                    _state = reader.CurrentState;
                    return true;
                }
            }
            catch (JsonException e)
            {
                throw new DatasetException(file, $"malformed JSON at {JsonSyntax.Describe(e)}");
            }
            if (_final)
            {
                Token = JsonTokenType.None;
                return false;
            }
            Fill();
        }
    }

    /// <summary>Reads the next token, failing with <paramref name="what"/> if the document ends first.</summary>
    public void ReadExpecting(string what)
    {
        if (!Read()) throw new DatasetException(file, $"malformed JSON: document ends before {what}");
    }

    /// <summary>Skips the value whose first token is current (a whole object or array, or one literal).</summary>
    public void SkipValue()
    {
        if (Token is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return;
        int depth = 1;
        while (depth > 0)
        {
            ReadExpecting("the end of a skipped value");
            if (Token is JsonTokenType.StartObject or JsonTokenType.StartArray) depth++;
            else if (Token is JsonTokenType.EndObject or JsonTokenType.EndArray) depth--;
        }
    }

    /// <summary>The current value's kind as JsonValueKind names it (Object, Array, String, Number, True, False, Null).</summary>
    public string Kind => Token switch
    {
        JsonTokenType.StartObject => "Object",
        JsonTokenType.StartArray => "Array",
        _ => Token.ToString(),
    };

    /// <summary>The current value as it would appear in an error message.</summary>
    public string Shown => Token switch
    {
        JsonTokenType.StartObject => "{…}",
        JsonTokenType.StartArray => "[…]",
        JsonTokenType.String => JsonSerializer.Serialize(Text),
        _ => Literal ?? "",
    };

    void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2); // one token larger than the window
        int n = stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0) _final = true;
        else _end += n;
    }
}
