using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TokenServer.Hosting;

/// <summary>The OpenAPI document at /swagger/v1/swagger.json and Swagger UI at /swagger.</summary>
internal static class OpenApi
{
    private const string BearerScheme = "Bearer";
    private const string PasswordFlowScheme = "OAuth2Password";
    private const string CodeFlowScheme = "OpenIdConnectCode";

    /// <summary>The public client registered at start for Swagger UI (TokenServer:Oidc:SwaggerClient).</summary>
    public const string SwaggerClientId = "swagger-ui";

    public static IServiceCollection AddOpenApiDocument(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "TokenServer",
                Version = "v1",
                Description = "Accounts, JWT access and refresh tokens, and the login dialects of research-data platforms. "
                    + "Authorize with a pasted access token (Bearer), with your email and password (OAuth2 password flow), "
                    + "or by signing in on TokenServer's own page (authorization code flow with PKCE, client swagger-ui).",
            });
            o.AddSecurityDefinition(BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "Paste an access_token from POST /api/v1/auth/login.",
            });
            o.AddSecurityDefinition(PasswordFlowScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.OAuth2,
                Description = "Log in with your email (as username) and password; leave client_id and client_secret empty.",
                Flows = new OpenApiOAuthFlows
                {
                    Password = new OpenApiOAuthFlow
                    {
                        TokenUrl = new Uri("/api/v1/auth/token", UriKind.Relative),
                        Scopes = new Dictionary<string, string>(),
                    },
                },
            });
            o.AddSecurityDefinition(CodeFlowScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.OAuth2,
                Description = "Sign in on TokenServer's sign-in page (authorization code flow with PKCE) as the registered client swagger-ui; leave client_secret empty.",
                Flows = new OpenApiOAuthFlows
                {
                    AuthorizationCode = new OpenApiOAuthFlow
                    {
                        AuthorizationUrl = new Uri("/connect/authorize", UriKind.Relative),
                        TokenUrl = new Uri("/api/v1/auth/token", UriKind.Relative),
                        Scopes = new Dictionary<string, string>
                        {
                            ["openid"] = "Who you are",
                            ["profile"] = "Your name and username",
                            ["email"] = "Your email address",
                        },
                    },
                },
            });
            o.OperationFilter<AuthorizeOperationFilter>();
            o.OperationFilter<BodyDocumentationFilter>();
            o.CustomSchemaIds(t => t.FullName?.Replace("TokenServer.", string.Empty, StringComparison.Ordinal).Replace('+', '.'));
        });
        return services;
    }

    public static void UseOpenApiDocument(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "TokenServer v1");
            o.RoutePrefix = "swagger";
            o.EnablePersistAuthorization();
            o.OAuthClientId(SwaggerClientId);
            o.OAuthUsePkce();
            o.OAuthScopes("openid", "profile", "email");
        });
    }

    /// <summary>Marks operations that need a token, so Swagger UI sends the Authorize token only where it matters.</summary>
    private sealed class AuthorizeOperationFilter : IOperationFilter
    {
        private static readonly string[] Schemes = [BearerScheme, PasswordFlowScheme, CodeFlowScheme];

        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
            if (!metadata.OfType<IAuthorizeData>().Any() || metadata.OfType<IAllowAnonymous>().Any())
            {
                return;
            }

            operation.Security ??= [];
            // One requirement per scheme: any one of them is enough (OpenAPI 3 security alternatives).
            foreach (var scheme in Schemes)
            {
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] });
            }
        }
    }

    private sealed class BodyDocumentationFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<BodyDocumentation>().FirstOrDefault() is not { } body)
            {
                return;
            }

            var schema = context.SchemaGenerator.GenerateSchema(body.Type, context.SchemaRepository);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = body.ContentTypes.ToDictionary(t => t, _ => new OpenApiMediaType { Schema = schema }),
            };
        }
    }
}
