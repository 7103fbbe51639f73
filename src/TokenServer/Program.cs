using TokenServer.Auth;
using TokenServer.Compat.LifeNome;
using TokenServer.Hosting;
using TokenServer.Organizations;
using TokenServer.Resources;
using TokenServer.Store;
using TokenServer.Tokens;
using TokenServer.Users;

var builder = WebApplication.CreateBuilder(args);

builder.AddHosting();
builder.AddStore();
builder.AddTokens();
builder.AddAccounts();
builder.AddResources();

var app = builder.Build();

app.UseHosting();
app.UseRouting();
app.UsePresentedTokens();
app.UseAuthentication();
app.UseAuthorization();

app.MapHealth();
app.MapWellKnown();
app.MapAuth();
app.MapOAuth();
app.MapAdmin();
app.MapOrganizations();
app.MapResources();
app.MapLifeNomeSamples();

app.Run();

/// <summary>Entry point; public so WebApplicationFactory can start the server in tests.</summary>
public partial class Program;
