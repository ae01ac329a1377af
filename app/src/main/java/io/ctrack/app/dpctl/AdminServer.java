package io.ctrack.app.dpctl;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The node's admin channel: a TCP server on a loopback address only, one dpctl command per connection.
 * <p>
 * Protocol (text, UTF-8): the client sends the number of arguments on a line, then each argument on its own line;
 * the server answers with output lines, each prefixed by {@code |}, then one status line, {@code OK} or
 * {@code ERROR message}.
 */
public final class AdminServer implements AutoCloseable
{
    private final ServerSocket server;
    private final Dpctl dpctl;
    private final ExecutorService handlers = Executors.newFixedThreadPool(2, runnable ->
    {
        final Thread thread = new Thread(runnable, "ctrack-admin");
        thread.setDaemon(true);
        return thread;
    });
    private final Thread acceptor;

    public AdminServer(final String host, final int port, final Dpctl dpctl) throws IOException
    {
        final InetAddress address = InetAddress.getByName(host);
        if (!address.isLoopbackAddress())
        {
            throw new IllegalArgumentException("the admin channel listens on loopback only, not " + host);
        }
        this.dpctl = dpctl;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(address, port), 16);
        this.acceptor = new Thread(this::accept, "ctrack-admin-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port()
    {
        return server.getLocalPort();
    }

    private void accept()
    {
        while (!server.isClosed())
        {
            try
            {
                final Socket socket = server.accept();
                handlers.execute(() -> handle(socket));
            }
            catch (final SocketException ex)
            {
                return;
            }
            catch (final IOException ex)
            {
                // Keep accepting: one failed connection does not stop the channel.
            }
        }
    }

    private void handle(final Socket socket)
    {
        try (socket;
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            Writer out = new BufferedWriter(new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8)))
        {
            socket.setSoTimeout(30_000);
            final List<String> args = new ArrayList<>();
            final int count = Integer.parseInt(in.readLine().trim());
            for (int i = 0; i < count; i++)
            {
                args.add(in.readLine());
            }
            socket.setSoTimeout(0);
            try
            {
                dpctl.execute(args, line ->
                {
                    try
                    {
                        out.write('|');
                        out.write(line);
                        out.write('\n');
                    }
                    catch (final IOException ex)
                    {
                        throw new java.io.UncheckedIOException(ex);
                    }
                });
                out.write("OK\n");
            }
            catch (final DpctlException ex)
            {
                out.write("ERROR " + ex.getMessage().replace('\n', ' ') + "\n");
            }
            catch (final RuntimeException ex)
            {
                out.write("ERROR " + String.valueOf(ex.getMessage()).replace('\n', ' ') + "\n");
            }
            out.flush();
        }
        catch (final IOException | RuntimeException ex)
        {
            // The client went away or sent garbage: nothing to answer.
        }
    }

    @Override
    public void close() throws IOException
    {
        server.close();
        handlers.shutdown();
        try
        {
            handlers.awaitTermination(5, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Client side: sends {@code args} to the admin channel at {@code host:port}, writes output lines to
     * {@code out}, and returns null on success or the error message.
     */
    public static String call(final String host, final int port, final List<String> args,
        final java.util.function.Consumer<String> out) throws IOException
    {
        for (final String arg : args)
        {
            if (arg.indexOf('\n') >= 0 || arg.indexOf('\r') >= 0)
            {
                return "arguments cannot contain line breaks";
            }
        }
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress(host, port), 5_000);
            final Writer w = new BufferedWriter(new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8));
            w.write(args.size() + "\n");
            for (final String arg : args)
            {
                w.write(arg + "\n");
            }
            w.flush();
            final BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null)
            {
                if (line.startsWith("|"))
                {
                    out.accept(line.substring(1));
                }
                else if (line.equals("OK"))
                {
                    return null;
                }
                else if (line.startsWith("ERROR "))
                {
                    return line.substring(6);
                }
            }
            return "the node closed the admin connection without an answer";
        }
    }
}
