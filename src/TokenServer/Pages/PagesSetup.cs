using Microsoft.AspNetCore.RateLimiting;
using TokenServer.Hosting;

namespace TokenServer.Pages;

/// <summary>The server's own pages (Razor Pages, rendered on the server, no script): sign-in, consent, sign-out, errors.</summary>
public static class PagesSetup
{
    /// <summary>
    /// Pages may load only this server's stylesheet, run no script, and never be framed
    /// (clickjacking, OWASP ASVS V14.4.7). No form-action: a form's answer redirects to a client.
    /// Swagger UI keeps its own scripts, so it gets frame-ancestors only.
    /// </summary>
    private const string PagePolicy = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";
    private const string FramePolicy = "frame-ancestors 'none'";

    /// <summary>Pages that take a password, a guessable code or send mail: in the API's per-address credential limit, as their API routes are.</summary>
    private static readonly string[] RateLimitedPages = ["/SignIn", "/Device", "/LinkAccount", "/ForgotPassword", "/ResetPassword", "/VerifyEmail"];

    public static WebApplicationBuilder AddPages(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorPages(o =>
        {
            foreach (var page in RateLimitedPages)
            {
                o.Conventions.AddPageApplicationModelConvention(page, m => m.EndpointMetadata.Add(new EnableRateLimitingAttribute(CredentialLimits.Policy)));
            }
        });
        return builder;
    }

    public static WebApplication UsePages(this WebApplication app)
    {
        app.Use(static (context, next) =>
        {
            context.Response.Headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/swagger", StringComparison.OrdinalIgnoreCase) ? FramePolicy : PagePolicy;
            return next(context);
        });
        app.UseStaticFiles();
        return app;
    }

    public static IEndpointRouteBuilder MapPages(this IEndpointRouteBuilder app)
    {
        app.MapRazorPages();
        return app;
    }
}
