using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TokenServer.Hosting;

/// <summary>The OpenAPI document at /swagger/v1/swagger.json and Swagger UI at /swagger.</summary>
internal static class OpenApi
{
    private const string BearerScheme = "Bearer";
    private const string PasswordFlowScheme = "OAuth2Password";

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
                    + "Authorize with a pasted access token (Bearer) or with your email and password (OAuth2 password flow).",
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
        });
    }

    /// <summary>Marks operations that need a token, so Swagger UI sends the Authorize token only where it matters.</summary>
    private sealed class AuthorizeOperationFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
            if (!metadata.OfType<IAuthorizeData>().Any() || metadata.OfType<IAllowAnonymous>().Any())
            {
                return;
            }

            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [],
                [new OpenApiSecuritySchemeReference(PasswordFlowScheme, context.Document)] = [],
            });
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
