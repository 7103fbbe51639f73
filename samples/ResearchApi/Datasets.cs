namespace ResearchApi;

public sealed record NewDataset(string? Title);

public sealed record Dataset(int Id, string Title, string CreatedBy);
