package io.ctrack.engine.pcap;

/**
 * A file that is not a usable classic pcap: the message names the file and the problem, for a person to act on.
 */
public final class PcapFormatException extends Exception
{
    private static final long serialVersionUID = 1L;

    public PcapFormatException(final String message)
    {
        super(message);
    }
}
