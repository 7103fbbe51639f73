using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TokenServer.Hosting;
using TokenServer.Store;

namespace TokenServer.Tokens;

public static class TokensSetup
{
    public static WebApplicationBuilder AddTokens(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>();

        // The Data Protection key ring lives in the store beside the keys it protects, so a
        // restart or a second instance can still read the signing keys. Anyone who reads the
        // store reads both, so this encryption is defence in depth, not separation; an operator
        // separates them by encrypting the ring with a certificate kept outside the store
        // (docs/security.md, "Signing keys at rest").
        var dataProtection = services.AddDataProtection().SetApplicationName("TokenServer").PersistKeysToDbContext<TokenServerDb>();
        var certificatePath = builder.Configuration[$"{TokenOptions.Section}:DataProtection:CertificatePath"];
        if (!string.IsNullOrWhiteSpace(certificatePath))
        {
            dataProtection.ProtectKeysWithCertificate(LoadKeyRingCertificate(certificatePath, builder.Configuration[$"{TokenOptions.Section}:DataProtection:CertificatePassword"]));
        }

        services.AddSingleton<SigningKeyRing>();
        services.AddSingleton<AccessTokenIssuer>();
        services.AddSingleton<IdTokenIssuer>();
        services.AddSingleton<RevocationList>();
        services.AddSingleton<SignatureCache>();
        services.AddScoped<SessionTokens>();
        services.AddScoped<RevocationPublisher>();
        services.AddSingleton<AccessTokenInspector>();
        services.AddHostedService<SigningKeyMaintenance>();
        services.AddSingleton<StoreSyncStatus>();
        services.AddHostedService<StoreChangeSync>();
        services.AddHealthChecks().AddCheck<StoreSyncHealthCheck>("store-sync").AddCheck<ClockSkewHealthCheck>("clock-skew");

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<SignatureCache, IOptions<TokenOptions>, TimeProvider, RevocationList>(ConfigureBearer);
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, AuthFailureResultHandler>();
        services.AddAuthorization();
        return builder;
    }

    private static readonly string[] UntrustedKeyHeaders = ["jku", "x5u", "jwk", "x5c"];

    private static X509Certificate2 LoadKeyRingCertificate(string path, string? password)
    {
        if (!File.Exists(path))
        {
            throw new OptionsValidationException($"{TokenOptions.Section}:DataProtection:CertificatePath", typeof(TokenOptions),
                [$"TokenServer:DataProtection:CertificatePath names '{path}', which does not exist. Give the path of a PFX (PKCS#12) file with a private key."]);
        }

        try
        {
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
            return certificate.HasPrivateKey
                ? certificate
                : throw new OptionsValidationException($"{TokenOptions.Section}:DataProtection:CertificatePath", typeof(TokenOptions),
                    [$"The certificate in TokenServer:DataProtection:CertificatePath ('{path}') has no private key; the key ring cannot be decrypted with it."]);
        }
        catch (CryptographicException ex)
        {
            throw new OptionsValidationException($"{TokenOptions.Section}:DataProtection:CertificatePath", typeof(TokenOptions),
                [$"TokenServer:DataProtection:CertificatePath ('{path}') could not be read as PKCS#12 with TokenServer:DataProtection:CertificatePassword: {ex.Message}"]);
        }
    }

    public static IApplicationBuilder UsePresentedTokens(this IApplicationBuilder app) => app.UseMiddleware<AmbiguousTokenMiddleware>();

    private static void ConfigureBearer(JwtBearerOptions bearer, SignatureCache signatures, IOptions<TokenOptions> tokenOptions, TimeProvider time, RevocationList revocations)
    {
        var o = tokenOptions.Value;
        bearer.MapInboundClaims = false;
        bearer.RequireHttpsMetadata = false;
        // Validation keys come from the key ring in memory: the server never fetches its own
        // discovery document over the network.
        bearer.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = o.Issuer,
            ValidAudience = o.Audience,
            // RFC 8725 §3.1: an allow-list; "none" and HMAC (which an attacker could sign with
            // our public key) are never accepted.
            ValidAlgorithms = SigningAlgorithms.Allowed,
            // RFC 8725 §3.11 and RFC 9068 §4: explicit typing keeps other JWTs out.
            ValidTypes = [TokenClaims.AccessTokenType],
            // Signature checked against the key ring in memory, once per distinct token.
            SignatureValidator = signatures.Validate,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return notBefore is not null && expires is not null && now < expires.Value && notBefore.Value <= now + o.ClockSkew;
            },
            NameClaimType = TokenClaims.PreferredUsername,
            RoleClaimType = TokenClaims.Role,
        };
        bearer.Events = new JwtBearerEvents
        {
            OnMessageReceived = context =>
            {
                var presented = PresentedToken.From(context.HttpContext);
                if (presented.Token is null)
                {
                    context.NoResult();
                }
                else if (presented.Token.Length > o.MaxTokenLength)
                {
                    context.Fail("The token is longer than any this server issues.");
                }
                else
                {
                    context.Token = presented.Token;
                }

                return Task.CompletedTask;
            },
            OnTokenValidated = context =>
            {
                var failure = CheckValidatedToken(context, revocations);
                if (failure is not null)
                {
                    context.Fail(failure);
                }

                return Task.CompletedTask;
            },
        };
    }

    private static string? CheckValidatedToken(TokenValidatedContext context, RevocationList revocations)
    {
        if (context.SecurityToken is not JsonWebToken jwt)
        {
            return "Not a JWS.";
        }

        // RFC 7515 §4.1.11: we understand no critical extension, so a token naming one is refused.
        if (jwt.TryGetHeaderValue<object>("crit", out _))
        {
            return "Critical header extensions are not supported.";
        }

        // RFC 8725 §3.10 and docs/security.md: key-locating headers are never trusted. The key is chosen
        // by kid from our own ring only; a token carrying these was not minted here.
        foreach (var header in UntrustedKeyHeaders)
        {
            if (jwt.TryGetHeaderValue<object>(header, out _))
            {
                return $"The '{header}' header is not accepted.";
            }
        }

        var principal = context.Principal!;
        var sid = principal.FindFirstValue(TokenClaims.SessionId);
        var jti = principal.FindFirstValue(JwtRegisteredClaimNames.Jti);
        var sub = principal.FindFirstValue(JwtRegisteredClaimNames.Sub);
        if (sid is null || jti is null || sub is null || principal.FindFirst(JwtRegisteredClaimNames.Iat) is null)
        {
            return "Required claims are missing.";
        }

        if (revocations.IsRevoked(sid, jti))
        {
            return "The token has been revoked.";
        }

        if (!PresentedToken.From(context.HttpContext).UserHeaderNames(principal.FindFirstValue(TokenClaims.PreferredUsername), principal.FindFirstValue(TokenClaims.Email)))
        {
            return "The User header does not name the token's subject.";
        }

        return null;
    }
}
