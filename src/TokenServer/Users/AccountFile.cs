using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CsvHelper;
using CsvHelper.Configuration;

namespace TokenServer.Users;

/// <summary>One account in an import or export file (CONTRACTS.md "Operator command line", <c>accounts import</c>).</summary>
public sealed class AccountLine
{
    [JsonPropertyName("email")]
    public string? Email { get; set; }

    [JsonPropertyName("full_name")]
    public string? FullName { get; set; }

    [JsonPropertyName("role")]
    public string? Role { get; set; }

    [JsonPropertyName("organizations")]
    public List<AccountLineMembership>? Organizations { get; set; }

    [JsonPropertyName("password_hash")]
    public string? PasswordHash { get; set; }

    [JsonPropertyName("hash_format")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? HashFormat { get; set; }

    [JsonPropertyName("salt")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Salt { get; set; }
}

public sealed class AccountLineMembership
{
    [JsonPropertyName("slug")]
    public string? Slug { get; set; }

    [JsonPropertyName("role")]
    public string? Role { get; set; }
}

/// <summary>A line read from a file: the account, or why the line could not be read.</summary>
public sealed record ReadLine(int Number, AccountLine? Account, string? Problem);

/// <summary>
/// Reads and writes account files: JSON lines, or CSV (by the <c>.csv</c> extension) with the
/// same columns, where <c>organizations</c> is <c>slug:role;slug:role</c> (role defaults to
/// member). Blank lines are skipped.
/// </summary>
public static class AccountFile
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] Columns = ["email", "full_name", "role", "organizations", "password_hash", "hash_format", "salt"];

    public static bool IsCsv(string path) => path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);

    public static async IAsyncEnumerable<ReadLine> ReadAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(path);
        if (IsCsv(path))
        {
            using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { MissingFieldFound = null, HeaderValidated = null });
            await csv.ReadAsync();
            csv.ReadHeader();
            var unknown = csv.HeaderRecord!.Where(h => !Columns.Contains(h)).ToList();
            if (unknown.Count > 0 || !csv.HeaderRecord!.Contains("email"))
            {
                throw new InvalidDataException($"{path}: the CSV header must name the columns {string.Join(", ", Columns)} (email required); unknown: {string.Join(", ", unknown)}.");
            }

            while (await csv.ReadAsync())
            {
                var line = new AccountLine
                {
                    Email = Field(csv, "email"),
                    FullName = Field(csv, "full_name"),
                    Role = Field(csv, "role"),
                    Organizations = ParseOrganizations(Field(csv, "organizations")),
                    PasswordHash = Field(csv, "password_hash"),
                    HashFormat = Field(csv, "hash_format"),
                    Salt = Field(csv, "salt"),
                };
                yield return new ReadLine(csv.Parser.RawRow, line, null);
            }

            yield break;
        }

        var number = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } text)
        {
            number++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            AccountLine? line;
            string? problem = null;
            try
            {
                line = JsonSerializer.Deserialize<AccountLine>(text, Json);
            }
            catch (JsonException e)
            {
                line = null;
                problem = $"not a JSON object ({e.Message.Split(" Path:")[0]})";
            }

            yield return line is null ? new ReadLine(number, null, problem ?? "not a JSON object") : new ReadLine(number, line, null);
        }
    }

    public static async Task WriteAsync(string path, IAsyncEnumerable<AccountLine> lines, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(path);
        if (IsCsv(path))
        {
            await using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
            foreach (var column in Columns)
            {
                csv.WriteField(column);
            }

            await csv.NextRecordAsync();
            await foreach (var line in lines.WithCancellation(cancellationToken))
            {
                csv.WriteField(line.Email);
                csv.WriteField(line.FullName);
                csv.WriteField(line.Role);
                csv.WriteField(string.Join(';', (line.Organizations ?? []).Select(m => $"{m.Slug}:{m.Role}")));
                csv.WriteField(line.PasswordHash);
                csv.WriteField(line.HashFormat);
                csv.WriteField(line.Salt);
                await csv.NextRecordAsync();
            }

            return;
        }

        await foreach (var line in lines.WithCancellation(cancellationToken))
        {
            await writer.WriteLineAsync(JsonSerializer.Serialize(line, Json));
        }
    }

    private static string? Field(CsvReader csv, string name) =>
        csv.TryGetField<string>(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    private static List<AccountLineMembership>? ParseOrganizations(string? value) =>
        value is null
            ? null
            : [.. value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(entry => entry.Split(':', 2, StringSplitOptions.TrimEntries))
                .Select(parts => new AccountLineMembership { Slug = parts[0], Role = parts.Length > 1 ? parts[1] : null })];
}
