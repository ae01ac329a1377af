package io.ctrack.engine.flow;

/** Bad flow text: the message names the line and the column (both 1-based) of the problem. */
public final class FlowSyntaxException extends IllegalArgumentException
{
    private static final long serialVersionUID = 1L;
    private final int line;
    private final int column;

    public FlowSyntaxException(final int line, final int column, final String message)
    {
        super("line " + line + ", column " + column + ": " + message);
        this.line = line;
        this.column = column;
    }

    public int line()
    {
        return line;
    }

    public int column()
    {
        return column;
    }
}
