package org.kvmgdb.archfixture.jna.transport.serial;

/** Fixture: a transport that calls native code through JNA (forbidden). */
public class SerialPort {
    public int pointerSize() {
        return com.sun.jna.Native.POINTER_SIZE;
    }
}
