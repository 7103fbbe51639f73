namespace TokenServer.Tests;

// These shadow Xunit's [Fact] and [Theory] for every test namespace under TokenServer.Tests
// (a type in an enclosing namespace wins over one imported by a using). In the PostgreSQL
// build they skip, with the reason, when no PostgreSQL server was given.

public sealed class FactAttribute : Xunit.FactAttribute
{
    public FactAttribute() => Skip = Infrastructure.TestStore.SkipReason;
}

public sealed class TheoryAttribute : Xunit.TheoryAttribute
{
    public TheoryAttribute() => Skip = Infrastructure.TestStore.SkipReason;
}
