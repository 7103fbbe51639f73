using System.CommandLine;
using TokenServer.Oidc;

namespace TokenServer.Cli;

internal static class ClientsAddCommand
{
    public static Command Create(CliHost host)
    {
        var name = new Argument<string>("name") { Description = "The name users see on the consent page." };
        var type = new Option<string>("--type") { Description = "public (a browser or native app, no secret) or confidential (a server that keeps a secret).", Required = true };
        var clientId = new Option<string?>("--client-id") { Description = "The client_id (3 to 100 letters, digits, '.', '-', '_'); generated when left out." };
        var redirects = new Option<string[]>("--redirect-uri") { Description = "A redirect URI; repeat for more." };
        var postLogout = new Option<string[]>("--post-logout-redirect-uri") { Description = "A post-logout redirect URI; repeat for more." };
        var grants = new Option<string[]>("--grant-type") { Description = $"A grant type ({string.Join(", ", OidcGrantTypes.ForClients)}); repeat for more. Default: authorization_code and refresh_token." };
        var scopes = new Option<string[]>("--scope") { Description = "A scope the client may ask for; repeat for more. Default: the standard OpenID Connect scopes." };
        var firstParty = new Option<bool>("--first-party") { Description = "Skip the consent page (the operator's own applications)." };
        var audience = new Option<string?>("--audience") { Description = "The aud of access tokens issued to this client (default: TokenServer:Audience)." };
        var command = new Command("add", "Register an OpenID Connect client; a confidential client's secret is printed once, and only its hash is stored.")
        {
            name, type, clientId, redirects, postLogout, grants, scopes, firstParty, audience,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            static List<string>? Many(string[]? values) => values is { Length: > 0 } ? [.. values] : null;
            var request = new ClientRequest(
                parsed.GetValue(clientId), parsed.GetValue(name), parsed.GetValue(type),
                Many(parsed.GetValue(redirects)) ?? [], Many(parsed.GetValue(postLogout)), Many(parsed.GetValue(grants)), Many(parsed.GetValue(scopes)),
                parsed.GetValue(firstParty), null, parsed.GetValue(audience), null);

            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var registration = await scope.ServiceProvider.GetRequiredService<ClientRegistry>().RegisterAsync(request, null, cancellationToken);
            if (registration.Exists)
            {
                throw new CliException($"A client with client_id '{request.ClientId}' is already registered; choose another client_id.");
            }

            var client = registration.Client ?? throw new CliException(string.Join(" ", registration.Errors.Select(e => $"{e.Key}: {e.Value[0]}")));
            await host.Output.WriteLineAsync($"Registered client {client.ClientId} ({client.Type}).");
            if (registration.Secret is { } secret)
            {
                await host.Output.WriteLineAsync($"Client secret (shown once, store it now): {secret}");
            }

            return 0;
        });
        return command;
    }
}
