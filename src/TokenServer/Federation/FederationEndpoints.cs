using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Hosting;
using TokenServer.Oidc;
using TokenServer.PersonalAccessTokens;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

namespace TokenServer.Federation;

/// <summary>
/// The end of an upstream sign-in (the button on the sign-in page starts it, Pages/ExternalSignIn),
/// the caller's linked identities, and the operator's provider listing.
/// </summary>
public static class FederationEndpoints
{
    public const string LinkPage = "/signin/link";

    public static IEndpointRouteBuilder MapFederation(this IEndpointRouteBuilder app)
    {
        app.MapGet("/signin/{provider}/complete", Complete).ExcludeFromDescription();

        var mine = app.MapGroup("/api/v1/auth/identities").WithTags("Linked identities").WithNoStore().RequireAuthorization();
        mine.MapGet("/", List).WithSummary("The upstream identities (institution, ORCID, ...) linked to your account");
        mine.MapDelete("/{provider}", Unlink).RefusePersonalAccessTokens()
            .WithSummary("Unlink an upstream identity; refused (409) when it is your only way to sign in");

        app.MapGet("/api/v1/admin/providers", Providers).WithTags("Admin").RequireAuthorization(Policies.Admin)
            .WithSummary("The configured upstream identity providers and the redirect URI to register at each");
        return app;
    }

    /// <summary>The sign-in page again, with a fixed message for <paramref name="reason"/> (Pages/Shared/_ExternalProviders).</summary>
    public static string FailedUrl(string provider, string reason, string? returnUrl)
    {
        var query = new Dictionary<string, string?> { ["provider"] = ExternalProvidersOptions.Key(provider), ["federation"] = reason };
        if (returnUrl is not null)
        {
            query["returnUrl"] = returnUrl;
        }

        return QueryHelpers.AddQueryString("/signin", query);
    }

    private static async Task<RedirectHttpResult> Complete(string provider, HttpContext context, FederatedSignIn federation, CancellationToken cancellationToken)
    {
        var upstream = UpstreamIdentity.From(await context.AuthenticateAsync(FederationSetup.ExternalScheme));
        if (upstream is null || ExternalProvidersOptions.Key(upstream.Provider) != ExternalProvidersOptions.Key(provider))
        {
            return TypedResults.Redirect(FailedUrl(provider, "expired", null));
        }

        var returnUrl = IsLocal(upstream.ReturnUrl) ? upstream.ReturnUrl : "/account";
        return await federation.CompleteAsync(context, upstream, cancellationToken) switch
        {
            FederationOutcome.SignedIn => TypedResults.Redirect(returnUrl),
            FederationOutcome.PasswordNeeded => TypedResults.Redirect(LinkPage),
            FederationOutcome.CodeNeeded => TypedResults.Redirect(QueryHelpers.AddQueryString("/signin", "returnUrl", returnUrl)),
            FederationOutcome.NoEmail => await FailAsync(context, provider, "no_email", returnUrl),
            FederationOutcome.Crossed => await FailAsync(context, provider, "crossed", returnUrl),
            _ => await FailAsync(context, provider, "disabled", returnUrl),
        };
    }

    private static async Task<RedirectHttpResult> FailAsync(HttpContext context, string provider, string reason, string returnUrl)
    {
        await context.SignOutAsync(FederationSetup.ExternalScheme);
        return TypedResults.Redirect(FailedUrl(provider, reason, returnUrl));
    }

    /// <summary>Same rule as the sign-in page: only a path on this server, never another site.</summary>
    internal static bool IsLocal(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));

    private static async Task<Ok<List<LinkedIdentityResponse>>> List(Caller caller, TokenServerDb db, IOptions<ExternalProvidersOptions> options, CancellationToken cancellationToken)
    {
        var rows = await db.Set<FederatedIdentity>().AsNoTracking().Where(f => f.AccountId == caller.AccountId).OrderBy(f => f.Provider).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(f => new LinkedIdentityResponse(f.Provider, DisplayName(options.Value, f.Provider), f.Issuer, f.Subject, f.CreatedAt, f.LastUsedAt)).ToList());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Unlink(string provider, Caller caller, FederatedSignIn federation, CancellationToken cancellationToken) =>
        await federation.UnlinkAsync(caller.AccountId!.Value, provider, cancellationToken) switch
        {
            UnlinkOutcome.Unlinked => TypedResults.NoContent(),
            UnlinkOutcome.NotFound => Problems.Create(StatusCodes.Status404NotFound, "Identity not linked",
                $"No identity of provider '{provider}' is linked to your account. List yours with GET /api/v1/auth/identities."),
            _ => Problems.Create(StatusCodes.Status409Conflict, "Last way to sign in", UnlinkRefusal),
        };

    public const string UnlinkRefusal =
        "This is the only way to sign in to your account: it has no password and no other linked identity. Set a password first (POST /api/v1/auth/password/forgot mails a link to set one) or link another provider, then unlink this one.";

    private static Ok<List<ProviderResponse>> Providers(IOptions<ExternalProvidersOptions> options, IOptions<TokenOptions> tokens) =>
        TypedResults.Ok(options.Value.Providers
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new ProviderResponse(
                ExternalProvidersOptions.Key(p.Key),
                ExternalProvidersOptions.DisplayNameOf(p.Key, p.Value),
                p.Value.Authority!,
                OidcScopes.Parse(p.Value.Scopes),
                tokens.Value.Issuer.TrimEnd('/') + ExternalProvidersOptions.CallbackPath(p.Key)))
            .ToList());

    internal static string DisplayName(ExternalProvidersOptions options, string provider) =>
        options.Find(provider) is { } p ? ExternalProvidersOptions.DisplayNameOf(provider, p) : provider;
}
