using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TokenServer.Store;

namespace TokenServer.Resources;

/// <summary>
/// Lists page by id within a visibility filter and filter by parent id, so every list and
/// count is served by an index (docs/resources.md, "Performance").
/// </summary>
internal static class OwnedRecordConfiguration
{
    public const int TitleLength = 500;
    public const int DescriptionLength = 4000;

    public static void Owned<T>(EntityTypeBuilder<T> builder)
        where T : class, IOwnedRecord
    {
        // Names, not expressions: a lambda through the interface is not a plain member access for the model builder.
        builder.HasIndex(nameof(IOwnedRecord.OrganizationId), nameof(IOwnedRecord.Id));
        builder.HasIndex(nameof(IOwnedRecord.IsPublic), nameof(IOwnedRecord.Id));
        builder.HasIndex(nameof(IOwnedRecord.ReleaseDate));
        // Covers the anonymous visibility rule (is_public OR released) so that counting a
        // list scans this narrow index rather than the rows.
        builder.HasIndex(nameof(IOwnedRecord.IsPublic), nameof(IOwnedRecord.ReleaseDate), nameof(IOwnedRecord.OrganizationId));
    }

    public static void CreatedBy<T>(EntityTypeBuilder<T> builder, System.Linq.Expressions.Expression<Func<T, object?>> createdBy)
        where T : class =>
        builder.HasOne<Account>().WithMany().HasForeignKey(createdBy).OnDelete(DeleteBehavior.SetNull);
}

internal sealed class ProjectConfiguration : IEntityTypeConfiguration<Project>
{
    public void Configure(EntityTypeBuilder<Project> builder)
    {
        builder.ToTable("projects");
        builder.Property(p => p.Title).HasMaxLength(OwnedRecordConfiguration.TitleLength);
        builder.Property(p => p.Description).HasMaxLength(OwnedRecordConfiguration.DescriptionLength);
        builder.HasOne(p => p.Organization).WithMany().HasForeignKey(p => p.OrganizationId).OnDelete(DeleteBehavior.Restrict);
        OwnedRecordConfiguration.Owned(builder);
        OwnedRecordConfiguration.CreatedBy(builder, p => p.CreatedById);
    }
}

internal sealed class SampleConfiguration : IEntityTypeConfiguration<Sample>
{
    public void Configure(EntityTypeBuilder<Sample> builder)
    {
        builder.ToTable("samples");
        builder.Property(s => s.Title).HasMaxLength(OwnedRecordConfiguration.TitleLength);
        builder.Property(s => s.Description).HasMaxLength(OwnedRecordConfiguration.DescriptionLength);
        builder.Property(s => s.ChecklistId).HasMaxLength(64);
        builder.Property(s => s.Organism).HasMaxLength(200);
        builder.HasOne(s => s.Organization).WithMany().HasForeignKey(s => s.OrganizationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(s => s.Project).WithMany().HasForeignKey(s => s.ProjectId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(s => new { s.ProjectId, s.Id });
        OwnedRecordConfiguration.Owned(builder);
        OwnedRecordConfiguration.CreatedBy(builder, s => s.CreatedById);
    }
}

internal sealed class ExperimentConfiguration : IEntityTypeConfiguration<Experiment>
{
    public void Configure(EntityTypeBuilder<Experiment> builder)
    {
        builder.ToTable("experiments");
        builder.Property(e => e.Title).HasMaxLength(OwnedRecordConfiguration.TitleLength);
        builder.Property(e => e.LibraryStrategy).HasMaxLength(64);
        builder.Property(e => e.LibrarySource).HasMaxLength(64);
        builder.Property(e => e.LibrarySelection).HasMaxLength(64);
        builder.Property(e => e.LibraryLayout).HasMaxLength(16);
        builder.Property(e => e.Platform).HasMaxLength(64);
        builder.Property(e => e.InstrumentModel).HasMaxLength(128);
        builder.HasOne(e => e.Organization).WithMany().HasForeignKey(e => e.OrganizationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(e => e.Sample).WithMany().HasForeignKey(e => e.SampleId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Project>().WithMany().HasForeignKey(e => e.ProjectId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(e => new { e.SampleId, e.Id });
        builder.HasIndex(e => new { e.ProjectId, e.Id });
        OwnedRecordConfiguration.Owned(builder);
        OwnedRecordConfiguration.CreatedBy(builder, e => e.CreatedById);
    }
}

internal sealed class RunConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> builder)
    {
        builder.ToTable("runs");
        builder.Property(r => r.Title).HasMaxLength(OwnedRecordConfiguration.TitleLength);
        builder.HasOne(r => r.Organization).WithMany().HasForeignKey(r => r.OrganizationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(r => r.Experiment).WithMany().HasForeignKey(r => r.ExperimentId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Sample>().WithMany().HasForeignKey(r => r.SampleId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Project>().WithMany().HasForeignKey(r => r.ProjectId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(r => new { r.ExperimentId, r.Id });
        builder.HasIndex(r => new { r.SampleId, r.Id });
        builder.HasIndex(r => new { r.ProjectId, r.Id });
        OwnedRecordConfiguration.Owned(builder);
        OwnedRecordConfiguration.CreatedBy(builder, r => r.CreatedById);
    }
}

internal sealed class RunFileConfiguration : IEntityTypeConfiguration<RunFile>
{
    public void Configure(EntityTypeBuilder<RunFile> builder)
    {
        builder.ToTable("run_files");
        builder.Property(f => f.FileName).HasMaxLength(255);
        builder.Property(f => f.Md5).HasMaxLength(32);
        builder.Property(f => f.StoragePath).HasMaxLength(300);
        builder.HasOne(f => f.Run).WithMany(r => r.Files).HasForeignKey(f => f.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(f => new { f.RunId, f.FileName }).IsUnique();
        builder.HasIndex(f => f.UploadedById);
    }
}

internal sealed class StagedFileConfiguration : IEntityTypeConfiguration<StagedFile>
{
    public void Configure(EntityTypeBuilder<StagedFile> builder)
    {
        builder.ToTable("staged_files");
        builder.Property(f => f.FileName).HasMaxLength(255);
        builder.Property(f => f.Md5).HasMaxLength(32);
        builder.Property(f => f.StoragePath).HasMaxLength(300);
        builder.HasOne<Account>().WithMany().HasForeignKey(f => f.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(f => new { f.OwnerId, f.Id });
        builder.HasIndex(f => f.CreatedAt);
    }
}
