using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace ActorTraining.Compute.Data.Shards;

/// <summary>
/// A shard in an S3 bucket (s3://bucket/key), read through the AWS SDK: endpoint, region and credentials come the
/// standard AWS ways (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID…, profiles), so MinIO,
/// Ceph, Swift's s3api and R2 work as well as AWS. A custom endpoint is addressed path-style, which they all accept.
/// </summary>
public sealed class S3ShardSource : ShardSource
{
    static readonly Lazy<AmazonS3Client> Client = new(Create);

    public required string Bucket { get; init; }
    public required string Key { get; init; }

    public static S3ShardSource Of(string url)
    {
        var rest = url["s3://".Length..];
        int slash = rest.IndexOf('/');
        if (slash <= 0 || slash == rest.Length - 1) throw new ShardSourceException(url, "not an s3://bucket/key URL");
        return new S3ShardSource { Url = url, Bucket = rest[..slash], Key = rest[(slash + 1)..] };
    }

    static AmazonS3Client Create()
    {
        var config = new AmazonS3Config
        {
            MaxErrorRetry = 1, Timeout = TimeSpan.FromSeconds(30), // retries and backoff are ShardDownload's
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED, // a byte range has no whole-object checksum; index.json's SHA-256 checks the shard
        };
        var endpoint = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3") ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
        if (!string.IsNullOrEmpty(endpoint))
        {
            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AWS_REGION"))) config.AuthenticationRegion = "us-east-1";
        }
        return new AmazonS3Client(config);
    }

    public override async Task<long> LengthAsync(CancellationToken cancel)
    {
        try { return (await Call(() => Client.Value.GetObjectMetadataAsync(Bucket, Key, cancel))).ContentLength; }
        catch (ShardNotFoundException)
        {
            // a HEAD's 404 has no body to say whether the key or the bucket is missing: ask the bucket
            await Call(() => Client.Value.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, MaxKeys = 1 }, cancel));
            throw;
        }
    }

    public override async Task CopyRangeAsync(long offset, long count, Stream destination, Action<long> copied, CancellationToken cancel)
    {
        var request = new GetObjectRequest { BucketName = Bucket, Key = Key, ByteRange = new ByteRange(offset, offset + count - 1) };
        using var response = await Call(() => Client.Value.GetObjectAsync(request, cancel));
        try { await Pump(new BoundedStream(new StallGuard(response.ResponseStream, TimeSpan.FromSeconds(30)), count), destination, copied, cancel); }
        catch (Exception e) when (e is IOException or HttpRequestException or TimeoutException)
        {
            throw new TransientSourceException(Url, $"connection lost mid-shard: {e.Message}", e);
        }
    }

    async Task<T> Call<T>(Func<Task<T>> call)
    {
        try { return await call(); }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.NotFound || e.ErrorCode is "NoSuchKey" or "NoSuchBucket")
        {
            if (e.ErrorCode == "NoSuchBucket") throw new ShardSourceException(Url, $"no bucket '{Bucket}'");
            throw new ShardNotFoundException(Url, "no such key");
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            throw new ShardSourceException(Url, $"access denied ({e.ErrorCode ?? ((int)e.StatusCode).ToString()}): check the credentials and the bucket policy");
        }
        catch (AmazonServiceException e) when ((int)e.StatusCode >= 500 || e.StatusCode is HttpStatusCode.TooManyRequests or 0)
        {
            throw new TransientSourceException(Url, $"S3 error {(int)e.StatusCode} {e.ErrorCode}: {e.Message}", e);
        }
        catch (AmazonServiceException e)
        {
            throw new ShardSourceException(Url, $"S3 error {(int)e.StatusCode} {e.ErrorCode}: {e.Message}", e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or AmazonClientException or TaskCanceledException)
        {
            throw new TransientSourceException(Url, $"unreachable: {e.Message}", e);
        }
    }
}
