package io.ctrack.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ctrack} command line.
 */
@Command(
    name = "ctrack",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Connection tracking with Open vSwitch semantics on the JVM.",
    subcommands = { DemoCommand.class, RunCommand.class, DpctlCommand.class, ReplayCommand.class, io.ctrack.app.bench.BenchCommand.class, CommandLine.HelpCommand.class })
public final class Main implements Runnable
{
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(final String[] args)
    {
        // Initialise logging before any thread logs, so SLF4J has nothing to replay (and prints nothing).
        org.slf4j.LoggerFactory.getILoggerFactory();
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (2 for usage and input errors). */
    public static int run(final String... args)
    {
        final CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) ->
        {
            if (ex instanceof UserError)
            {
                commandLine.getErr().println("ctrack " + commandLine.getCommandName() + ": " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        cli.setParameterExceptionHandler((ex, args1) ->
        {
            final CommandLine commandLine = ex.getCommandLine();
            commandLine.getErr().println("ctrack " + commandLine.getCommandName() + ": " + ex.getMessage());
            commandLine.getErr().println("Try 'ctrack " + commandLine.getCommandName() + " --help'.");
            return 2;
        });
        return cli.execute(args);
    }

    @Override
    public void run()
    {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            final String version = Main.class.getPackage().getImplementationVersion();
            return new String[] { "ctrack " + (version == null ? "dev" : version) };
        }
    }
}
