using System.Text.Json.Serialization;

namespace TokenServer.Compat.TetraScience;

// TetraScience bodies (seeds/004, CONTRACTS.md "TetraScience dialect"). Ids are strings, as the seed shows them.

public sealed record TetraScienceLoginRequest(
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("password")] string? Password);

public sealed record TetraScienceRole(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("userId")] string UserId,
    [property: JsonPropertyName("organizationId")] string OrganizationId,
    [property: JsonPropertyName("orgSlug")] string OrgSlug,
    [property: JsonPropertyName("orgName")] string OrgName,
    [property: JsonPropertyName("role")] string Role);

public sealed record TetraScienceProfile(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("firstName")] string FirstName,
    [property: JsonPropertyName("lastName")] string LastName,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("systemRole")] string SystemRole,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("roles")] IReadOnlyList<TetraScienceRole> Roles,
    [property: JsonPropertyName("token")] string Token);

/// <summary>The organization <c>x-org-slug</c> selects, and the caller's role in it.</summary>
public sealed record TetraScienceOrganization(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("slug")] string Slug,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("role")] string Role);

/// <summary>TetraScience's API answers errors in the hapi/Boom shape.</summary>
public sealed record TetraScienceError(
    [property: JsonPropertyName("statusCode")] int StatusCode,
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("message")] string Message);
