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

    /// <summary>Bytes one account may hold in staged files and in run files it attached; an upload past it gets 507.</summary>
    public long StorageQuotaBytes { get; set; } = 10L << 30;

    /// <summary>Free space the files directory's disk keeps: an upload that would leave less gets 507.</summary>
    public long MinFreeDiskBytes { get; set; } = 1L << 30;

    /// <summary>Uploads one account may start per <see cref="UploadWindow"/>; more get 429 with Retry-After.</summary>
    public int UploadsPerWindow { get; set; } = 60;

    /// <summary>The fixed window of <see cref="UploadsPerWindow"/>.</summary>
    public TimeSpan UploadWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Age after which a staged file never attached to a run is deleted (by the store pruning).</summary>
    public TimeSpan StagedFileLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Largest bulk-submit CSV body in bytes; larger ones get 413.</summary>
    public long BulkMaxBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>Most sample rows one bulk-submit CSV may hold; more get 413 naming the first line over.</summary>
    public int BulkMaxRows { get; set; } = 10_000;

    /// <summary>Most cells one CSV row (the header included) may hold; more get 400 naming the line.</summary>
    public int BulkMaxColumns { get; set; } = 50;

    /// <summary>Longest CSV cell in characters (a quote that never closes is one long cell); longer gets 400 naming the line.</summary>
    public int BulkMaxCellLength { get; set; } = OwnedRecordConfiguration.DescriptionLength;

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

        if (options.StorageQuotaBytes < options.MaxUploadBytes)
        {
            errors.Add($"TokenServer:Resources:StorageQuotaBytes must be at least TokenServer:Resources:MaxUploadBytes ({options.MaxUploadBytes}), not {options.StorageQuotaBytes}.");
        }

        if (options.MinFreeDiskBytes < 0)
        {
            errors.Add($"TokenServer:Resources:MinFreeDiskBytes must be zero or more bytes, not {options.MinFreeDiskBytes}.");
        }

        if (options.UploadsPerWindow < 1)
        {
            errors.Add($"TokenServer:Resources:UploadsPerWindow must be at least 1, not {options.UploadsPerWindow}.");
        }

        if (options.UploadWindow < TimeSpan.FromSeconds(1) || options.UploadWindow > TimeSpan.FromDays(1))
        {
            errors.Add("TokenServer:Resources:UploadWindow must be between 00:00:01 and 1.00:00:00.");
        }

        if (options.StagedFileLifetime < TimeSpan.FromMinutes(1))
        {
            errors.Add($"TokenServer:Resources:StagedFileLifetime must be at least 00:01:00, not {options.StagedFileLifetime}.");
        }

        if (options.BulkMaxBytes is < 1024 or > 1L << 30)
        {
            errors.Add($"TokenServer:Resources:BulkMaxBytes must be between 1024 and 1073741824 bytes, not {options.BulkMaxBytes}.");
        }

        if (options.BulkMaxRows is < 1 or > 1_000_000)
        {
            errors.Add($"TokenServer:Resources:BulkMaxRows must be between 1 and 1000000, not {options.BulkMaxRows}.");
        }

        var widest = Checklists.All.Max(c => Checklists.SampleColumns.Count + c.Fields.Count);
        if (options.BulkMaxColumns < widest || options.BulkMaxColumns > 10_000)
        {
            errors.Add($"TokenServer:Resources:BulkMaxColumns must be between {widest} (the widest checklist's template) and 10000, not {options.BulkMaxColumns}.");
        }

        if (options.BulkMaxCellLength is < 1 or > 1_000_000)
        {
            errors.Add($"TokenServer:Resources:BulkMaxCellLength must be between 1 and 1000000 characters, not {options.BulkMaxCellLength}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
