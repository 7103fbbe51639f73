using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenServer.Auth;
using TokenServer.Hosting;
using TokenServer.Organizations;
using TokenServer.PersonalAccessTokens;
using TokenServer.Store;
using TokenServer.Tokens;

namespace TokenServer.Compat.TetraScience;

/// <summary>
/// TetraScience at the root (seeds/004): POST /login with the profile answer and a four-hour
/// token whose payload carries <c>tsTokenSchemaVersion</c> and <c>authStacks</c>, and the
/// organization named by <c>x-org-slug</c>.
/// </summary>
public static class TetraScienceEndpoints
{
    public const string Dialect = "tetrascience";
    public const string PersonalTokenClientId = "personal-token";
    public const int TokenSchemaVersion = 1;

    public static IEndpointRouteBuilder MapTetraScience(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/").WithTags("TetraScience").WithMetadata(TetraScienceErrors.AuthFailures);
        group.MapPost("/login", Login).RequireCredentialRateLimit().WithNoStore()
            .DocumentsBody<TetraScienceLoginRequest>("application/json")
            .WithSummary("Log in with {email, password}; answers the profile with roles per organization and a four-hour token");
        group.MapGet("/v1/organizations/current", CurrentOrganization).RequireAuthorization()
            .RequireOrganizationContext(TetraScienceErrors.OrganizationContext)
            .WithSummary("The organization the x-org-slug header selects, and your role in it (checks a client's headers)");
        return app;
    }

    /// <summary>
    /// The account page's token (CONTRACTS.md native table): the way in for members of an SSO
    /// organization. Part of the native API, so it stays when the TetraScience login is off.
    /// </summary>
    public static IEndpointRouteBuilder MapPersonalToken(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/auth/personal-token", PersonalToken).WithTags("Auth").RequireAuthorization().WithNoStore().RefusePersonalAccessTokens()
            .WithSummary("A four-hour token for scripts, shaped like a TetraScience login token");
        return app;
    }

    private static async Task<Results<Ok<TetraScienceProfile>, JsonHttpResult<TetraScienceError>>> Login(
        HttpRequest request, CredentialChecker credentials, SessionTokens sessions, TokenServerDb db, IOptions<DialectOptions> options, CancellationToken cancellationToken)
    {
        var body = await LenientBody.ReadAsync<TetraScienceLoginRequest>(request, cancellationToken);
        if (body.Error is BodyError.Malformed or BodyError.TooLarge)
        {
            return TetraScienceErrors.Unreadable(body.Error, body.Message!);
        }

        if (string.IsNullOrWhiteSpace(body.Value?.Email) || string.IsNullOrEmpty(body.Value.Password))
        {
            return TetraScienceErrors.Create(StatusCodes.Status400BadRequest, "Send {\"email\": \"...\", \"password\": \"...\"} as JSON.");
        }

        var result = await credentials.CheckAsync(body.Value.Email, body.Value.Password, Dialect, cancellationToken);
        if (!result.Succeeded)
        {
            return TetraScienceErrors.InvalidLogin();
        }

        var account = result.Account!;
        var memberships = await MembershipsAsync(db, account.Id, cancellationToken);

        // Checked only after the password matched, so the 403 reveals nothing to someone who does not know it.
        if (memberships.FirstOrDefault(m => m.SsoEnabled) is { } sso)
        {
            return TetraScienceErrors.SsoRequired(sso.Slug);
        }

        var lifetime = options.Value.TetraScience.AccessTokenLifetime;
        var tokens = await sessions.StartAsync(account,
            new SessionRequest(Dialect, Dialect, lifetime, IssueRefreshToken: false, SessionLifetime: lifetime, ExtraClaims: Claims(account, memberships)), cancellationToken);
        var id = account.Id.ToString(CultureInfo.InvariantCulture);
        var (first, last) = PersonName.Split(account.FullName);
        return TypedResults.Ok(new TetraScienceProfile(id, first, last, account.Email, account.Role, account.Status,
            memberships.Select(m => new TetraScienceRole(id, id, m.OrganizationId.ToString(CultureInfo.InvariantCulture), m.Slug, m.Name, m.Role)).ToList(),
            tokens.Access.Token));
    }

    private static Ok<TetraScienceOrganization> CurrentOrganization(HttpContext context)
    {
        var organization = OrganizationContext.Of(context);
        return TypedResults.Ok(new TetraScienceOrganization(organization.OrganizationId.ToString(CultureInfo.InvariantCulture), organization.Slug, organization.Name, organization.Role));
    }

    private static async Task<Results<Created<PersonalTokenResponse>, ProblemHttpResult>> PersonalToken(
        ClaimsPrincipal user, SessionTokens sessions, TokenServerDb db, IOptions<DialectOptions> options, CancellationToken cancellationToken)
    {
        var id = user.AccountId();
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id && a.Status == AccountStatuses.Active, cancellationToken);
        if (account is null)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "Account not active", "This account is disabled or gone; it cannot get new tokens.");
        }

        var memberships = await MembershipsAsync(db, account.Id, cancellationToken);
        var lifetime = options.Value.TetraScience.AccessTokenLifetime;
        var tokens = await sessions.StartAsync(account,
            new SessionRequest(Dialect, PersonalTokenClientId, lifetime, IssueRefreshToken: false, SessionLifetime: lifetime, ExtraClaims: Claims(account, memberships)), cancellationToken);
        return TypedResults.Created((string?)null, new PersonalTokenResponse(tokens.Access.Token, tokens.Access.ExpiresAt));
    }

    private sealed record MembershipRow(long OrganizationId, string Slug, string Name, bool SsoEnabled, string Role);

    private static Task<List<MembershipRow>> MembershipsAsync(TokenServerDb db, long accountId, CancellationToken cancellationToken) =>
        db.Memberships.AsNoTracking()
            .Where(m => m.AccountId == accountId)
            .OrderBy(m => m.Organization.Slug)
            .Select(m => new MembershipRow(m.OrganizationId, m.Organization.Slug, m.Organization.Name, m.Organization.SsoEnabled, m.Role))
            .ToListAsync(cancellationToken);

    /// <summary>The seed's payload schema: <c>tsTokenSchemaVersion</c> and <c>authStacks.informatics</c>, organizations keyed by id.</summary>
    private static Dictionary<string, object> Claims(Account account, List<MembershipRow> memberships)
    {
        var organizations = new JsonObject();
        foreach (var m in memberships)
        {
            organizations[m.OrganizationId.ToString(CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["slug"] = m.Slug,
                ["roles"] = new JsonArray(m.Role),
            };
        }

        var authStacks = new JsonObject
        {
            ["informatics"] = new JsonObject
            {
                ["systemRoles"] = new JsonArray(account.Role),
                ["userId"] = account.Id.ToString(CultureInfo.InvariantCulture),
                ["organizations"] = organizations,
            },
        };
        return new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["tsTokenSchemaVersion"] = TokenSchemaVersion,
            ["authStacks"] = JsonSerializer.SerializeToElement(authStacks),
        };
    }
}

/// <summary>
/// The deprecated TetraScience API key (seeds/004: "The API_KEY is now deprecated"), off unless
/// <c>TokenServer:Dialects:TetraScience:LegacyApiKey:Enabled</c>. An API key here is a service
/// user's long-lived token presented in <c>x-api-key</c>: the same revocable credential an
/// organization admin already manages, so no second kind of secret exists. A person's token in
/// <c>x-api-key</c> is refused. Every response to a request carrying the header says
/// <c>Deprecation</c> (RFC 9745).
/// </summary>
public static class TetraScienceLegacyApiKey
{
    public const string Header = "x-api-key";

    /// <summary>
    /// RFC 9745 §2.1: the moment of deprecation as a Structured Field Date. The seed gives no date,
    /// so the value is the start of 2024, before this server existed: "already deprecated".
    /// </summary>
    public const string DeprecationValue = "@1704067200";

    public static IServiceCollection AddTetraScienceLegacyApiKey(this IServiceCollection services) =>
        services.AddTransient<IStartupFilter, LegacyApiKeyStartupFilter>();

    private sealed class LegacyApiKeyStartupFilter(IOptions<DialectOptions> options) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            var tetra = options.Value.TetraScience;
            if (tetra.Enabled && tetra.LegacyApiKey.Enabled)
            {
                // First in the pipeline: the key becomes a ts-auth-token before the presented-token
                // check, so two different tokens in one request are still refused (400).
                app.Use(TranslateAsync);
            }

            next(app);
        };
    }

    private static async Task TranslateAsync(HttpContext context, RequestDelegate next)
    {
        var key = context.Request.Headers[Header].ToString().Trim();
        if (key.Length == 0)
        {
            await next(context);
            return;
        }

        // OnStarting, so the header survives the exception handler clearing the response.
        context.Response.OnStarting(static state =>
        {
            ((HttpResponse)state).Headers["Deprecation"] = DeprecationValue;
            return Task.CompletedTask;
        }, context.Response);

        var inspector = context.RequestServices.GetRequiredService<AccessTokenInspector>();
        var jwt = await inspector.ValidateAsync(key);
        if (jwt is null || !jwt.TryGetPayloadValue<string>(TokenClaims.Dialect, out var dialect) || dialect != ServiceUserSecrets.Dialect)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TetraScienceLegacyApiKey))
                .LogInformation("Refused an x-api-key that is not a live service-user token");
            await TetraScienceErrors.Create(StatusCodes.Status401Unauthorized,
                "The x-api-key is not a valid API key. API keys are deprecated: send a service user's token in 'ts-auth-token' instead.").ExecuteAsync(context);
            return;
        }

        context.Request.Headers.Append(PresentedToken.TsAuthTokenHeader, key);
        await next(context);
    }
}
