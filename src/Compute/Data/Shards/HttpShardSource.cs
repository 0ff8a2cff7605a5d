using System.Net;
using System.Net.Http.Headers;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>A shard on an HTTP(S) server, read with Range requests (one shared client: connections are pooled).</summary>
public sealed class HttpShardSource : ShardSource
{
    static readonly HttpClient Client = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10), PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = Timeout.InfiniteTimeSpan, // a shard takes as long as it takes; a stalled read is cut by the read timeout below
    };

    static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    public override async Task<long> LengthAsync(CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, Url);
        using var response = await Send(request, cancel);
        return response.Content.Headers.ContentLength ?? throw new ShardSourceException(Url, "the server gives no Content-Length");
    }

    public override async Task CopyRangeAsync(long offset, long count, Stream destination, Action<long> copied, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url);
        request.Headers.Range = new RangeHeaderValue(offset, offset + count - 1);
        using var response = await Send(request, cancel);
        if (response.StatusCode != HttpStatusCode.PartialContent && offset != 0)
            throw new ShardSourceException(Url, $"the server ignores Range requests (HTTP {(int)response.StatusCode} for bytes {offset}-)");
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancel);
            await Pump(new BoundedStream(new StallGuard(body, ReadTimeout), count), destination, copied, cancel);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or TimeoutException)
        {
            throw new TransientSourceException(Url, $"connection lost mid-shard: {e.Message}", e);
        }
    }

    async Task<HttpResponseMessage> Send(HttpRequestMessage request, CancellationToken cancel)
    {
        HttpResponseMessage response;
        try { response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel); }
        catch (HttpRequestException e) { throw new TransientSourceException(Url, $"unreachable: {e.Message}", e); }
        catch (TaskCanceledException e) when (!cancel.IsCancellationRequested) { throw new TransientSourceException(Url, "timed out", e); }
        if (response.IsSuccessStatusCode) return response;
        var status = (int)response.StatusCode;
        response.Dispose();
        if (status is 408 or 429 || status >= 500) throw new TransientSourceException(Url, $"HTTP {status} {response.ReasonPhrase}");
        if (status == 404) throw new ShardNotFoundException(Url, "HTTP 404 Not Found");
        throw new ShardSourceException(Url, $"HTTP {status} {response.ReasonPhrase}");
    }
}
