using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Store;

namespace TokenServer.Resources;

/// <summary>
/// Seeds one small public project (samples, experiments, runs with tiny FASTQ files) the first
/// time a Development server starts on an empty store, so a newcomer's first
/// <c>curl http://localhost:8000/api/v1/projects/</c> shows something (docs/decisions.md).
/// Registered only in the Development environment.
/// </summary>
internal sealed class DemoData(IServiceScopeFactory scopes, FileStore files, IOptions<ResourceOptions> options, TimeProvider time, ILogger<DemoData> logger) : IHostedService
{
    public const string OrganizationSlug = "demo-lab";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.SeedDemoData)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
        if (await db.Set<Project>().AnyAsync(cancellationToken))
        {
            return;
        }

        var now = time.GetUtcNow();
        var organization = await db.Organizations.FirstOrDefaultAsync(o => o.Slug == OrganizationSlug, cancellationToken);
        if (organization is null)
        {
            organization = new Organization { Slug = OrganizationSlug, Name = "Demo Lab", CreatedAt = now };
            db.Organizations.Add(organization);
        }

        var project = new Project
        {
            Organization = organization,
            Title = "Demo: soil microbiome time series",
            Description = "A tiny public project seeded in Development so the API has something to show.",
            IsPublic = true,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Add(project);
        await db.SaveChangesAsync(cancellationToken);
        string[] sites = ["Berlin allotment", "Rhine floodplain", "Black Forest clearing"];
        for (var i = 0; i < sites.Length; i++)
        {
            var attributes = new Dictionary<string, string>
            {
                ["collection_date"] = $"2024-0{i + 4}-15",
                ["geographic_location"] = "Germany",
                ["latitude"] = (52.5 - i).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["longitude"] = (13.4 - (2 * i)).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["environment_medium"] = "soil",
            };
            var sample = new Sample
            {
                ProjectId = project.Id,
                OrganizationId = organization.Id,
                Title = $"Topsoil, {sites[i]}",
                Description = "Top 10 cm, pooled from five cores.",
                ChecklistId = "environmental",
                Organism = "soil metagenome",
                TaxonId = 410658,
                AttributesJson = ResourceQueries.WriteAttributes(attributes),
                IsPublic = true,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Add(sample);
            await db.SaveChangesAsync(cancellationToken);
            var experiment = new Experiment
            {
                ProjectId = project.Id,
                SampleId = sample.Id,
                OrganizationId = organization.Id,
                Title = $"16S amplicon sequencing of {sites[i]}",
                LibraryStrategy = "AMPLICON",
                LibrarySource = "METAGENOMIC",
                LibrarySelection = "PCR",
                LibraryLayout = "PAIRED",
                Platform = "ILLUMINA",
                InstrumentModel = "Illumina MiSeq",
                IsPublic = true,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Add(experiment);
            await db.SaveChangesAsync(cancellationToken);
            var run = new Run { ProjectId = project.Id, SampleId = sample.Id, ExperimentId = experiment.Id, OrganizationId = organization.Id, Title = $"Run {i + 1}", IsPublic = true, CreatedAt = now, UpdatedAt = now };
            foreach (var read in new[] { 1, 2 })
            {
                var saved = await files.SaveRunFileAsync(Encoding.ASCII.GetBytes(Fastq(i, read)), cancellationToken);
                run.Files.Add(new RunFile { FileName = $"demo_{i + 1}_R{read}.fastq", SizeBytes = saved.Size, Md5 = saved.Md5, StoragePath = saved.StoragePath, CreatedAt = now });
            }

            db.Add(run);
            await db.SaveChangesAsync(cancellationToken);
        }

        logger.LogInformation("Seeded the Development demo project {Accession}", Accessions.Project(project.Id));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static string Fastq(int sample, int read)
    {
        var text = new StringBuilder();
        for (var n = 0; n < 4; n++)
        {
            var bases = new string("ACGT"[(sample + n + read) % 4], 1) + "GTGCCAGCMGCCGCGGTAA"[..18];
            text.Append('@').Append("demo.").Append(sample + 1).Append('.').Append(n + 1).Append('/').Append(read).Append('\n')
                .Append(bases).Append("\n+\n").Append(new string('I', bases.Length)).Append('\n');
        }

        return text.ToString();
    }
}
