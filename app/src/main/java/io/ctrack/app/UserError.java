package io.ctrack.app;

/**
 * A problem with what the user asked for or gave (a file, an argument): printed as one line, exit code 2, no
 * stack trace.
 */
public final class UserError extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public UserError(final String message)
    {
        super(message);
    }
}
