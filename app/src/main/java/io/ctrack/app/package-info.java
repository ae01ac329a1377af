/**
 * The runnable node and its command line: {@code replay} (captures through the engine, Open vSwitch's output),
 * and the node, admin and benchmark commands as they land.
 */
package io.ctrack.app;
