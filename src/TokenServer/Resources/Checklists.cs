using System.Globalization;
using System.Text.Json.Serialization;

namespace TokenServer.Resources;

public sealed record ChecklistField(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("required")] bool Required,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("allowed_values")] IReadOnlyList<string>? AllowedValues = null,
    [property: JsonPropertyName("numeric")] bool Numeric = false);

public sealed record Checklist(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("fields")] IReadOnlyList<ChecklistField> Fields);

/// <summary>
/// Built-in sample metadata checklists (docs/decisions.md). They ship with the code rather
/// than the store: a sample records the checklist id it was validated against, and the
/// checklists change only with a release. Field names follow the ENA/MIxS vocabulary.
/// </summary>
public static class Checklists
{
    public const string Minimal = "minimal";

    /// <summary>Sample columns every bulk-submit CSV has before the checklist's own fields.</summary>
    public static readonly IReadOnlyList<string> SampleColumns = ["title", "description", "organism", "taxon_id"];

    public static readonly IReadOnlyList<Checklist> All =
    [
        new(Minimal, "Minimal sample", "The least a sample needs: where and when it was collected.",
        [
            new("collection_date", true, "Date of collection, ISO 8601 (2024-05-31 or 2024-05 or 2024)."),
            new("geographic_location", true, "Country or sea, for example 'Germany' or 'Atlantic Ocean'."),
            new("strain", false, "Strain or isolate name."),
        ]),
        new("human", "Human sample", "Human-associated samples; no directly identifying data.",
        [
            new("collection_date", true, "Date of collection, ISO 8601."),
            new("geographic_location", true, "Country of collection."),
            new("host_sex", true, "Sex of the donor.", ["female", "male", "other", "not collected"]),
            new("host_age", false, "Age of the donor in years.", Numeric: true),
            new("tissue", true, "Tissue or body site sampled."),
            new("disease", false, "Disease or condition, if any."),
        ]),
        new("environmental", "Environmental sample", "Soil, water, air and other environmental samples (MIxS-like).",
        [
            new("collection_date", true, "Date of collection, ISO 8601."),
            new("geographic_location", true, "Country or sea."),
            new("latitude", true, "Decimal degrees, -90 to 90.", Numeric: true),
            new("longitude", true, "Decimal degrees, -180 to 180.", Numeric: true),
            new("environment_medium", true, "The material sampled, for example 'soil' or 'sea water'."),
            new("depth_m", false, "Depth in metres.", Numeric: true),
        ]),
    ];

    public static Checklist? Find(string? id) => All.FirstOrDefault(c => string.Equals(c.Id, id, StringComparison.Ordinal));

    /// <summary>Problems with these attributes against the checklist, keyed by field name; empty when they conform.</summary>
    public static Dictionary<string, string> Validate(Checklist checklist, IReadOnlyDictionary<string, string> attributes)
    {
        var errors = new Dictionary<string, string>();
        foreach (var field in checklist.Fields)
        {
            var value = attributes.TryGetValue(field.Name, out var v) ? v.Trim() : string.Empty;
            if (value.Length == 0)
            {
                if (field.Required)
                {
                    errors[field.Name] = $"Required by checklist '{checklist.Id}': {field.Description}";
                }

                continue;
            }

            if (field.AllowedValues is { } allowed && !allowed.Contains(value))
            {
                errors[field.Name] = $"Use one of: {string.Join(", ", allowed)}.";
            }
            else if (field.Numeric && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                errors[field.Name] = $"Must be a number, not '{value}'.";
            }
        }

        return errors;
    }
}
