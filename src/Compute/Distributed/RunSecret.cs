using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Distributed;

/// <summary>
/// What only the nodes of one run know: a self-signed certificate with its private key, in one PKCS#12 file (by default
/// <see cref="FileName"/> in the run directory, made by the first `train`; or a file every node is given). Akka remoting
/// between the nodes runs over mutual TLS with exactly this certificate pinned; the ranks' data-plane connections
/// authenticate with an HMAC key derived from the same file's bytes (<see cref="RingKey"/>). Nothing of it is ever logged:
/// messages name the file, never its content.
/// </summary>
public sealed class RunSecret : IDisposable
{
    public const string FileName = "run-secret.pfx";

    public X509Certificate2 Certificate { get; }

    /// <summary>The key of the data plane's challenge–response (HMAC-SHA256).</summary>
    public byte[] RingKey { get; }

    /// <summary>The certificate's SHA-1 thumbprint: what a peer must present (it is public).</summary>
    public string Thumbprint => Certificate.Thumbprint;

    RunSecret(X509Certificate2 certificate, byte[] ringKey) => (Certificate, RingKey) = (certificate, ringKey);

    /// <summary>The secret in <paramref name="path"/>, written there first (owner-only) when it does not exist yet.</summary>
    public static RunSecret LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            var temporary = $"{path}.{Environment.ProcessId}.tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(temporary, options)) file.Write(CreatePkcs12());
            try { File.Move(temporary, path, overwrite: false); }
            catch (IOException) when (File.Exists(path)) { File.Delete(temporary); } // another node of the run made it first
        }
        return Load(path);
    }

    /// <summary>The secret in <paramref name="path"/>; a file that is not one is an error naming it (never its content).</summary>
    public static RunSecret Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException("--secret-file", $"{path}: cannot be read ({e.Message})");
        }
        return FromBytes(bytes, path);
    }

    static RunSecret FromBytes(byte[] pkcs12, string source)
    {
        X509Certificate2 certificate;
        try { certificate = X509CertificateLoader.LoadPkcs12(pkcs12, password: null, X509KeyStorageFlags.Exportable); }
        catch (CryptographicException)
        {
            throw new ConfigException("--secret-file", $"{source}: not a run secret (a PKCS#12 file with a certificate and its key, as `train` writes one)");
        }
        if (!certificate.HasPrivateKey)
            throw new ConfigException("--secret-file", $"{source}: its certificate has no private key");
        var key = SHA256.HashData([.. "actortraining data plane v1"u8, .. pkcs12]);
        return new RunSecret(certificate, key);
    }

    static byte[] CreatePkcs12()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=actortraining run", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(20));
        return certificate.Export(X509ContentType.Pkcs12);
    }

    public void Dispose() => Certificate.Dispose();
}
