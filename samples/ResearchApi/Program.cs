using System.Collections.Concurrent;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http.HttpResults;
using ResearchApi;

// A research-data API that TokenServer protects (docs/protecting-your-api.md): anyone may read
// the datasets, writing one needs a TokenServer access token whose role may write, deleting one
// a curator's. Tokens are checked locally against the keys TokenServer publishes (discovery and
// JWKS, RFC 8414 and RFC 7517); no call to TokenServer per request.
var builder = WebApplication.CreateBuilder(args);
var tokenServer = builder.Configuration.GetSection("TokenServer");

builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
{
    o.Authority = tokenServer["Authority"];
    o.Audience = tokenServer["Audience"];
    o.RequireHttpsMetadata = !builder.Environment.IsDevelopment();

    // TokenServer's claim names as they are on the wire: "role", "sub" (RFC 9068 §2.2).
    o.MapInboundClaims = false;
    o.TokenValidationParameters.RoleClaimType = "role";
    o.TokenValidationParameters.NameClaimType = "sub";
});
builder.Services.AddAuthorizationBuilder()
    .AddPolicy("write", p => p.RequireRole("researcher", "curator", "admin"))
    .AddPolicy("curate", p => p.RequireRole("curator", "admin"));
builder.Services.AddSingleton<ConcurrentDictionary<int, Dataset>>();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();

var datasets = app.MapGroup("/datasets");
datasets.MapGet("/", (ConcurrentDictionary<int, Dataset> store) => TypedResults.Ok(store.Values.OrderBy(d => d.Id).ToList()));
datasets.MapPost("/", Results<Created<Dataset>, ValidationProblem> (NewDataset body, System.Security.Claims.ClaimsPrincipal user, ConcurrentDictionary<int, Dataset> store) =>
{
    if (string.IsNullOrWhiteSpace(body.Title))
    {
        return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["title"] = ["Give the dataset a title."] });
    }

    var dataset = new Dataset(store.Count + 1, body.Title.Trim(), user.Identity!.Name!);
    store[dataset.Id] = dataset;
    return TypedResults.Created($"/datasets/{dataset.Id}", dataset);
}).RequireAuthorization("write");
datasets.MapDelete("/{id:int}", Results<NoContent, NotFound> (int id, ConcurrentDictionary<int, Dataset> store) =>
    store.TryRemove(id, out _) ? TypedResults.NoContent() : TypedResults.NotFound()).RequireAuthorization("curate");

app.Run();

/// <summary>Entry point; public so the tests' WebApplicationFactory can start the API.</summary>
public partial class Program;
