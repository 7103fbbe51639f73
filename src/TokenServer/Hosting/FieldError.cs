namespace TokenServer.Hosting;

/// <summary>
/// A person's mistake in one input, named by its wire field (for example <c>new_password</c>):
/// what a shared service answers so that the API turns it into a validation problem and a page
/// shows it next to its own input.
/// </summary>
public sealed record FieldError(string Field, string Message);
