using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace TokenServer.Resources;

/// <summary>
/// Run files and staged uploads on disk under <see cref="ResourceOptions.FilesDirectory"/>; the
/// store keeps only names, sizes, checksums and relative paths. Stored names are random, never
/// the client's file name, so no upload can choose where it lands.
/// </summary>
public sealed class FileStore(IOptions<ResourceOptions> options)
{
    private const string StagingFolder = "staging";
    private const string RunsFolder = "runs";

    public string Root { get; } = options.Value.FullFilesDirectory;

    public sealed record Saved(string StoragePath, long Size, string Md5);

    /// <summary>Copies the stream to a new staged file, hashing as it goes; null (and nothing kept) when it exceeds <paramref name="limit"/> bytes.</summary>
    public async Task<Saved?> SaveStagedAsync(Stream source, long limit, CancellationToken cancellationToken)
    {
        var relative = Path.Combine(StagingFolder, Guid.NewGuid().ToString("N"));
        var full = FullPath(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
#pragma warning disable CA5351 // MD5 is the checksum research archives publish (ENA/SRA file reports), not a security control.
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351
        long size = 0;
        var completed = false;
        try
        {
            await using (var target = new FileStream(full, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    size += read;
                    if (size > limit)
                    {
                        return null;
                    }

                    md5.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }

            completed = true;
            return new Saved(relative.Replace('\\', '/'), size, Convert.ToHexStringLower(md5.GetHashAndReset()));
        }
        finally
        {
            if (!completed)
            {
                File.Delete(full);
            }
        }
    }

    /// <summary>Writes a small file directly as a run file (demo data).</summary>
    public async Task<Saved> SaveRunFileAsync(byte[] content, CancellationToken cancellationToken)
    {
        var relative = $"{RunsFolder}/{Guid.NewGuid():N}";
        var full = FullPath(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        await File.WriteAllBytesAsync(full, content, cancellationToken);
#pragma warning disable CA5351 // See SaveStagedAsync: a published checksum, not a security control.
        return new Saved(relative, content.Length, Convert.ToHexStringLower(MD5.HashData(content)));
#pragma warning restore CA5351
    }

    /// <summary>Moves a staged file into the run files; returns its new relative path.</summary>
    public string MoveToRuns(string stagedPath)
    {
        var relative = $"{RunsFolder}/{Guid.NewGuid():N}";
        var target = FullPath(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(FullPath(stagedPath), target);
        return relative;
    }

    public void Delete(string relative)
    {
        var full = FullPath(relative);
        if (File.Exists(full))
        {
            File.Delete(full);
        }
    }

    /// <summary>Free bytes on the disk that holds the files directory, for this process's user.</summary>
    public long FreeBytes()
    {
        Directory.CreateDirectory(Root);
        return new DriveInfo(Root).AvailableFreeSpace;
    }

    /// <summary>A write failed because the disk is full (ENOSPC on Unix, ERROR_DISK_FULL/ERROR_HANDLE_DISK_FULL on Windows).</summary>
    public static bool IsDiskFull(IOException e) => e.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    /// <summary>The absolute path of a stored file, refusing anything outside the root.</summary>
    public string FullPath(string relative)
    {
        var full = Path.GetFullPath(Path.Combine(Root, relative));
        return full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? full
            : throw new InvalidOperationException("A stored file path points outside the files directory.");
    }
}
