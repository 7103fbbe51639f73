using Microsoft.Extensions.Options;

namespace TokenServer.Resources;

/// <summary>Bound from <c>TokenServer:Resources</c> (docs/resources.md, "Configuration").</summary>
public sealed class ResourceOptions
{
    public const string Section = "TokenServer:Resources";

    /// <summary>Where run files and staged uploads are kept, never in the store. A relative path is under the content root (the app's directory), like the default SQLite file, wherever the server is started from.</summary>
    public string FilesDirectory { get; set; } = "data/files";

    /// <summary>Largest file one upload to /api/v1/staging/files may carry; larger ones get 413.</summary>
    public long MaxUploadBytes { get; set; } = 1L << 30;

    /// <summary>Seeds a small public demo project at start, in the Development environment only.</summary>
    public bool SeedDemoData { get; set; } = true;

    public string FullFilesDirectory => Path.GetFullPath(FilesDirectory);
}

internal sealed class ResourceOptionsValidator : IValidateOptions<ResourceOptions>
{
    public ValidateOptionsResult Validate(string? name, ResourceOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.FilesDirectory))
        {
            errors.Add("TokenServer:Resources:FilesDirectory must name a directory (default 'data/files').");
        }

        if (options.MaxUploadBytes < 1)
        {
            errors.Add($"TokenServer:Resources:MaxUploadBytes must be a positive number of bytes, not {options.MaxUploadBytes}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
