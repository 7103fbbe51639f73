namespace TokenServer.Email;

/// <summary>A mail to send about an account; looked up and sent off the request path.</summary>
public abstract record MailJob
{
    /// <summary>The verification link for a new account's address.</summary>
    public sealed record Verify(long AccountId) : MailJob;

    /// <summary>Someone asked to verify this address again (the account may not exist).</summary>
    public sealed record VerifyAgain(string Email) : MailJob;

    /// <summary>Someone asked to reset the password of this address (the account may not exist).</summary>
    public sealed record ResetPassword(string Email) : MailJob;

    /// <summary>The confirmation link for an email change, to the new address.</summary>
    public sealed record ChangeEmail(long AccountId, string NewEmail) : MailJob;

    /// <summary>The notice to the old address once a change is confirmed.</summary>
    public sealed record EmailChanged(string OldEmail, string NewEmail) : MailJob;
}
