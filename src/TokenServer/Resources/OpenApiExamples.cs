using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TokenServer.Resources;

/// <summary>Example request bodies for the resource writes, so Swagger UI's "Try it out" starts from a working request.</summary>
internal sealed class ResourceOpenApiExamples : IOperationFilter
{
    private static readonly Dictionary<string, string> Bodies = new(StringComparer.OrdinalIgnoreCase)
    {
        ["POST api/v1/projects"] = """{"title": "Rhizosphere 2025", "description": "Root-associated soil from three field sites"}""",
        ["PATCH api/v1/projects/{accession}"] = """{"title": "Rhizosphere 2025 (revised)"}""",
        ["POST api/v1/samples"] = """{"project": "PRJ000001", "title": "Root soil, site A", "organism": "soil metagenome", "taxon_id": 410658, "checklist": "minimal", "attributes": {"collection_date": "2025-05-14", "geographic_location": "Germany"}}""",
        ["PATCH api/v1/samples/{accession}"] = """{"description": "Pooled from five cores", "attributes": {"collection_date": "2025-05-14", "geographic_location": "Germany", "strain": "n/a"}}""",
        ["POST api/v1/experiments"] = """{"sample": "SAM000001", "platform": "ILLUMINA", "instrument_model": "Illumina MiSeq", "library_strategy": "AMPLICON", "library_source": "METAGENOMIC", "library_layout": "PAIRED"}""",
        ["PATCH api/v1/experiments/{accession}"] = """{"instrument_model": "Illumina NextSeq 2000"}""",
        ["POST api/v1/runs"] = """{"experiment": "EXP000001", "title": "Lane 1"}""",
        ["PATCH api/v1/runs/{accession}"] = """{"title": "Lane 1 (re-run)"}""",
        ["POST api/v1/runs/{accession}/files"] = """{"staged_file_id": 1}""",
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var key = $"{context.ApiDescription.HttpMethod} {context.ApiDescription.RelativePath}";
        if (Bodies.TryGetValue(key, out var json) && operation.RequestBody?.Content is { } content && content.TryGetValue("application/json", out var media))
        {
            media.Example = JsonNode.Parse(json);
        }
    }
}
