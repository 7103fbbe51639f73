using Microsoft.Extensions.Options;
using Swashbuckle.AspNetCore.SwaggerGen;
using TokenServer.Hosting;
using TokenServer.Store;

namespace TokenServer.Resources;

public static class ResourcesSetup
{
    public static WebApplicationBuilder AddResources(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ResourceOptions>().BindConfiguration(ResourceOptions.Section).ValidateOnStart()
            .PostConfigure<IHostEnvironment>((o, environment) => o.FilesDirectory = environment.UnderContentRoot(o.FilesDirectory));
        services.AddSingleton<IValidateOptions<ResourceOptions>, ResourceOptionsValidator>();
        services.AddSingleton<FileStore>();
        services.AddSingleton<UploadLimiter>();
        services.AddScoped<IPruningStep, StagedFilePruning>();
        services.Configure<SwaggerGenOptions>(o => o.OperationFilter<ResourceOpenApiExamples>());
        if (builder.Environment.IsDevelopment())
        {
            // Demo data (docs/decisions.md): Development only, never Production or Testing.
            services.AddHostedService<DemoData>();
        }

        return builder;
    }

    /// <summary>Projects, samples, experiments, runs, files, search, checklists and bulk submission under /api/v1.</summary>
    public static IEndpointRouteBuilder MapResources(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Resources");
        api.MapRecords();
        api.MapFiles();
        api.MapSubmissions();
        return app;
    }
}
