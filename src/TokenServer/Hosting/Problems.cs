using Microsoft.AspNetCore.Http.HttpResults;

namespace TokenServer.Hosting;

/// <summary>The native API's error shape: RFC 9457 problem details whose <c>detail</c> says what to do.</summary>
public static class Problems
{
    public static ProblemHttpResult Create(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);

    public static ValidationProblem Validation(IDictionary<string, string[]> errors, string? detail = null) =>
        TypedResults.ValidationProblem(errors, detail: detail ?? "Fix the fields listed in 'errors' and send the request again.", title: "Invalid request");

    public static ValidationProblem Field(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });
}
