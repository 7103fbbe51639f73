using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using TokenServer.Hosting;
using TokenServer.Store;
using TokenServer.Users;

namespace TokenServer.PersonalAccessTokens;

/// <summary>
/// Everything a personal access token may do, in one place (CONTRACTS.md "Personal access
/// tokens"): which scopes a person may grant, which scope a request needs, and the gate that
/// answers 403 outside them. Scopes are levels: <c>write</c> includes <c>read</c>, <c>admin</c>
/// includes both. The account's live role still applies on top (a researcher's <c>admin</c>
/// scope cannot exist, and a demoted admin's token loses admin routes with the role).
/// </summary>
public static class PersonalAccessTokenScopes
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Admin = "admin";

    /// <summary>The claim a token's principal carries its scopes in, one value each (RFC 9068 §2.2.3 names it <c>scope</c>).</summary>
    public const string Claim = "scope";

    public static readonly IReadOnlyList<string> All = [Read, Write, Admin];

    private static readonly object RefusedMarker = new RefusesPersonalAccessTokens();

    /// <summary>What an account of this role may grant: a viewer only reads, only an admin grants <c>admin</c>.</summary>
    public static int MaxLevelFor(string role) => role switch
    {
        AccountRoles.Admin => Level(Admin),
        AccountRoles.Viewer => Level(Read),
        _ => Level(Write),
    };

    /// <summary>1 for read, 2 for write, 3 for admin; 0 for anything else.</summary>
    public static int Level(string scope) => scope switch
    {
        Read => 1,
        Write => 2,
        Admin => 3,
        _ => 0,
    };

    public static bool IsPersonalAccessToken(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true, AuthenticationType: PersonalAccessTokenAuthentication.SchemeName };

    /// <summary>
    /// The role claim of a token's principal: an admin's token without the <c>admin</c> scope acts
    /// as a curator, so no check that reads the role claim (the admin policy, registration of a
    /// privileged account) can be reached without that scope.
    /// </summary>
    public static string RoleClaimFor(string liveRole, int grantedLevel) =>
        liveRole == AccountRoles.Admin && grantedLevel < Level(Admin) ? AccountRoles.Curator : liveRole;

    /// <summary>The scope a request needs: admin routes need <c>admin</c>, reads <c>read</c>, anything else <c>write</c>.</summary>
    public static string RequiredFor(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == Policies.Admin) == true)
        {
            return Admin;
        }

        var method = context.Request.Method;
        return HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) ? Read : Write;
    }

    /// <summary>
    /// Marks a route no personal access token may call whatever its scopes: routes that make
    /// credentials (another personal token, a TetraScience personal token) or change how the
    /// account signs in (password, MFA, email). They need a login.
    /// </summary>
    public static TBuilder RefusePersonalAccessTokens<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(RefusedMarker);

    /// <summary>Runs after authorization, on every route, so public routes and anonymous posts are covered too.</summary>
    public static IApplicationBuilder UsePersonalAccessTokenScopes(this IApplicationBuilder app) => app.Use(static (context, next) =>
    {
        var user = context.User;
        if (!IsPersonalAccessToken(user))
        {
            return next(context);
        }

        if (context.GetEndpoint()?.Metadata.GetMetadata<RefusesPersonalAccessTokens>() is not null)
        {
            return RefuseAsync(context, "This route needs a login, not a personal access token: log in (POST /api/v1/auth/login) and send that access token.");
        }

        var required = RequiredFor(context);
        var granted = user.FindAll(Claim).Max(c => Level(c.Value));
        return granted >= Level(required)
            ? next(context)
            : RefuseAsync(context, $"This personal access token lacks the '{required}' scope this request needs. Create a token with that scope (POST /api/v1/auth/personal-access-tokens).");
    });

    /// <summary>403 in the route's own failure shape; the native API's problem says which scope is missing.</summary>
    private static Task RefuseAsync(HttpContext context, string detail) =>
        context.GetEndpoint()?.Metadata.GetMetadata<IAuthFailureWriter>() is not null
            ? AuthFailures.WriteAsync(context, AuthFailureKind.Forbidden)
            : Problems.Create(StatusCodes.Status403Forbidden, "Outside the token's scopes", detail).ExecuteAsync(context);

    private sealed class RefusesPersonalAccessTokens;
}
