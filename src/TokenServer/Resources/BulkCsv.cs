using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace TokenServer.Resources;

/// <summary>
/// Reads a bulk-submit CSV (RFC 4180: quoted fields, embedded commas and newlines) with
/// CsvHelper's parser, which is linear in the input, under the operator's caps
/// (<see cref="ResourceOptions"/> BulkMax*). Cells are checked against the checklist; row
/// numbers count records with the header as row 1, messages about the file's structure name
/// the line where the record starts.
/// </summary>
internal static class BulkCsv
{
    private static readonly string[] RequiredSampleColumns = ["title", "organism"];

    public sealed record Row(string Title, string? Description, string Organism, int? TaxonId, Dictionary<string, string> Attributes);

    /// <summary>Either rows (when <see cref="Errors"/> is empty), or errors, or the line at which the row cap was passed.</summary>
    public sealed record Result(List<Row> Rows, List<BulkSubmitError> Errors, string? Broken = null, int? RowCapPassedAtLine = null);

    public static Result Parse(TextReader text, Checklist checklist, ResourceOptions limits, CancellationToken cancellationToken)
    {
        var rows = new List<Row>();
        var errors = new List<BulkSubmitError>();
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            TrimOptions = TrimOptions.Trim | TrimOptions.InsideQuotes,
            MaxFieldSize = limits.BulkMaxCellLength,
            IgnoreBlankLines = true,
        };
        using var parser = new CsvParser(text, configuration);
        var allowed = Columns(checklist).ToList();
        string[]? header = null;
        var rowNumber = 0;
        var nextLine = 1;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var line = nextLine;
            string[] fields;
            try
            {
                if (!parser.Read())
                {
                    break;
                }

                if (parser.Count > limits.BulkMaxColumns)
                {
                    return Broken(rowNumber + 1, line, $"This record has {parser.Count} cells; at most {limits.BulkMaxColumns} cells per row are read (TokenServer:Resources:BulkMaxColumns).");
                }

                // Bad data (a stray quote) is reported when the cells are read, not by Read().
                fields = parser.Record!;
            }
            catch (MaxFieldSizeException)
            {
                return Broken(rowNumber + 1, line, $"A cell is longer than {limits.BulkMaxCellLength} characters (TokenServer:Resources:BulkMaxCellLength), or a quote opened there never closes.");
            }
            catch (BadDataException)
            {
                return Broken(rowNumber + 1, line, "This record is not valid CSV: a quote inside a cell must be doubled (\"\") and the whole cell quoted.");
            }

            nextLine = parser.RawRow + 1;
            if (fields.All(string.IsNullOrEmpty))
            {
                continue;
            }

            rowNumber++;
            if (header is null)
            {
                header = fields;
                CheckHeader(header, checklist, allowed, errors);
                if (errors.Count > 0)
                {
                    return new Result(rows, errors);
                }

                continue;
            }

            if (rowNumber - 1 > limits.BulkMaxRows)
            {
                return new Result(rows, errors, RowCapPassedAtLine: line);
            }

            if (fields.Length != header.Length)
            {
                errors.Add(new BulkSubmitError(rowNumber, null, $"This row has {fields.Length} cells; the header has {header.Length}."));
                continue;
            }

            CheckRow(header, fields, checklist, rowNumber, rows, errors);
        }

        if (header is null || (rows.Count == 0 && errors.Count == 0))
        {
            errors.Add(new BulkSubmitError(Math.Max(rowNumber, 1), null, "The CSV has no sample rows under the header."));
        }

        return new Result(rows, errors);
    }

    public static IEnumerable<string> Columns(Checklist checklist) => Checklists.SampleColumns.Concat(checklist.Fields.Select(f => f.Name));

    private static Result Broken(int row, int line, string message) =>
        new([], [new BulkSubmitError(row, null, $"Line {line}: {message}")], Broken: $"line {line}");

    private static void CheckRow(string[] header, string[] fields, Checklist checklist, int rowNumber, List<Row> rows, List<BulkSubmitError> errors)
    {
        var cells = header.Zip(fields).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        var rowErrors = errors.Count;
        CheckText(cells, "title", true, OwnedRecordConfiguration.TitleLength, rowNumber, errors);
        CheckText(cells, "description", false, OwnedRecordConfiguration.DescriptionLength, rowNumber, errors);
        CheckText(cells, "organism", true, 200, rowNumber, errors);
        int? taxon = null;
        if (cells.GetValueOrDefault("taxon_id") is { Length: > 0 } t)
        {
            if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0)
            {
                taxon = parsed;
            }
            else
            {
                errors.Add(new BulkSubmitError(rowNumber, "taxon_id", $"'{t}' is not an NCBI taxonomy id (a positive number such as 9606)."));
            }
        }

        var attributes = checklist.Fields
            .Where(f => cells.GetValueOrDefault(f.Name) is { Length: > 0 })
            .ToDictionary(f => f.Name, f => cells[f.Name], StringComparer.Ordinal);
        foreach (var (field, message) in Checklists.Validate(checklist, attributes))
        {
            errors.Add(new BulkSubmitError(rowNumber, field, message));
        }

        foreach (var (field, value) in attributes)
        {
            if (value.Length > SampleFields.MaxValueLength)
            {
                errors.Add(new BulkSubmitError(rowNumber, field, $"At most {SampleFields.MaxValueLength} characters."));
            }
        }

        if (errors.Count == rowErrors)
        {
            rows.Add(new Row(cells["title"], cells.GetValueOrDefault("description"), cells["organism"], taxon, attributes));
        }
    }

    private static void CheckHeader(string[] header, Checklist checklist, List<string> allowed, List<BulkSubmitError> errors)
    {
        foreach (var group in header.GroupBy(h => h, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add(new BulkSubmitError(1, group.Key, "This column appears more than once."));
        }

        foreach (var column in header.Where(h => !allowed.Contains(h)))
        {
            errors.Add(new BulkSubmitError(1, column, $"Unknown column for checklist '{checklist.Id}'. Its columns: {string.Join(", ", allowed)}."));
        }

        foreach (var column in RequiredSampleColumns.Concat(checklist.Fields.Where(f => f.Required).Select(f => f.Name)).Where(c => !header.Contains(c)))
        {
            errors.Add(new BulkSubmitError(1, column, "Required column missing."));
        }
    }

    private static void CheckText(Dictionary<string, string> cells, string column, bool required, int max, int row, List<BulkSubmitError> errors)
    {
        var value = cells.GetValueOrDefault(column) ?? string.Empty;
        if (value.Length == 0 && required)
        {
            errors.Add(new BulkSubmitError(row, column, "Required; this cell is empty."));
        }
        else if (value.Length > max)
        {
            errors.Add(new BulkSubmitError(row, column, $"At most {max} characters."));
        }
    }
}
