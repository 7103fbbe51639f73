using TokenServer.Auth;
using TokenServer.Cli;
using TokenServer.Compat;
using TokenServer.Email;
using TokenServer.Federation;
using TokenServer.Hosting;
using TokenServer.Mfa;
using TokenServer.Observability;
using TokenServer.Oidc;
using TokenServer.Organizations;
using TokenServer.Pages;
using TokenServer.PersonalAccessTokens;
using TokenServer.Resources;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

// Configuration is read once at start (options are validated then, and nothing rebinds them).
// Reloading on change would watch the content root recursively, and the default SQLite store
// lives under it (data/): every write to the store would wake the watcher (docs/performance.md).
var builder = WebApplication.CreateBuilder(HostingSetup.Options([.. args, "--hostBuilder:reloadConfigOnChange=false"]));

builder.AddHosting();
builder.AddObservability();
builder.AddStore();
builder.AddTokens();
builder.AddAuth();
builder.AddPersonalAccessTokens();
builder.AddMfa();
builder.AddEmail();
builder.AddAccounts();
builder.AddSecurity();
builder.AddOrganizations();
builder.AddDialects();
builder.AddResources();
builder.AddOidc();
builder.AddFederation();
builder.AddPages();

// Operator commands (migrate, accounts import, keys rotate, ...) run here and exit; README "Operating".
if (await Cli.TryRunAsync(args, builder))
{
    return;
}

var app = builder.Build();

// Settings are validated here, before any hosted service starts, so a misconfigured server
// stops with a message naming the key (the host would only validate them as it starts).
app.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();

app.UseHosting();
app.UsePages();
app.UseRouting();
app.UseCors(); // only endpoints that name a policy (Oidc/BrowserAppCors.cs) answer other origins
app.UseStoreFailures();
app.UseCredentialLimits();
app.UsePresentedTokens();
app.UseAuthentication();
app.UseAuthorization();
app.UsePersonalAccessTokenScopes();

var routes = SharedEndpoints.For(app);
routes.MapHealth();
routes.MapMetrics();
routes.MapWellKnown();
routes.MapAuth();
routes.MapOAuth();
routes.MapAdmin();
routes.MapOrganizations();
routes.MapSessions();
routes.MapPersonalAccessTokens();
routes.MapMfa();
routes.MapEmail();
routes.MapAudit();
routes.MapServiceUsers();
routes.MapDialects();
routes.MapResources();
routes.MapOidc();
routes.MapFederation();
routes.MapPages();

app.Run();

/// <summary>Entry point; public so WebApplicationFactory can start the server in tests.</summary>
public partial class Program;
