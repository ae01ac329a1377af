/**
 * The admin channel: Open vSwitch's {@code ovs-dpctl} conntrack commands (same syntax, same output) run against a
 * node, the loopback server a running node listens on, and the client {@code ctrack dpctl} uses.
 */
package io.ctrack.app.dpctl;
