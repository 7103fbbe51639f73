using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using TokenServer.Organizations;
using TokenServer.Store;

namespace TokenServer.Cli;

internal static class ServiceUsersAddCommand
{
    public static Command Create(CliHost host)
    {
        var organization = new Argument<string>("organization") { Description = "The slug of the organization the service user belongs to." };
        var name = new Argument<string>("name") { Description = "The service user's name (1 to 100 characters), such as pipeline-uploader." };
        var role = new Option<string>("--role") { Description = $"What it may do to records: {string.Join(", ", ServiceUserRegistry.Roles)}.", DefaultValueFactory = _ => ServiceUserRegistry.DefaultRole };
        var command = new Command("add", "Create a service user (a non-person member of an organization that authenticates with client credentials); its client secret is printed once.")
        {
            organization, name, role,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var slug = parsed.GetValue(organization)!;
            var label = parsed.GetValue(name);
            var chosen = parsed.GetValue(role)!;
            if (ServiceUserRegistry.Validate(label, chosen) is { } invalid)
            {
                throw new CliException($"{invalid.Field}: {invalid.Message}");
            }

            await using var scope = await host.OpenStoreAsync(cancellationToken);
            var db = scope.ServiceProvider.GetRequiredService<TokenServerDb>();
            var found = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Slug == slug, cancellationToken)
                ?? throw new CliException($"No organization has the slug '{slug}'; create it first (POST /api/v1/admin/organizations).");
            var (serviceUser, _, secret) = await scope.ServiceProvider.GetRequiredService<ServiceUserRegistry>().CreateAsync(found.Id, found.Slug, label!, chosen, null, cancellationToken);
            await host.Output.WriteLineAsync($"Created service user {serviceUser.Name} in {found.Slug} ({chosen}): client_id {serviceUser.ClientId}");
            await host.Output.WriteLineAsync($"Client secret (shown once, store it now): {secret}");
            return 0;
        });
        return command;
    }
}
