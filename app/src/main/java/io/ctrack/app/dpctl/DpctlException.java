package io.ctrack.app.dpctl;

/**
 * A dpctl command that cannot be carried out: bad syntax or a failure, with a message for a person.
 */
public final class DpctlException extends Exception
{
    private static final long serialVersionUID = 1L;

    public DpctlException(final String message)
    {
        super(message);
    }
}
