import NIOCore

extension ByteBuffer {
    /// Writes `hello` as a `peerHello` frame payload: `u64 id, string name, string datacenter,
    /// string peerAddress, string clientAddress, u32 bootstrapExpect, bool hasState`.
    @discardableResult
    public mutating func writePeerHello(_ hello: PeerHello) -> Int {
        let start = writerIndex
        writeInteger(hello.id)
        writeStringField(hello.name)
        writeStringField(hello.datacenter)
        writeStringField(hello.peerAddress)
        writeStringField(hello.clientAddress)
        writeMultipleIntegers(hello.bootstrapExpect, UInt8(hello.hasState ? 1 : 0))
        return writerIndex - start
    }

    /// Reads a ``PeerHello`` from a `peerHello` frame payload: all readable bytes must form exactly
    /// one hello. Fails like ``readRaftMessage()``; on failure the reader index does not move.
    public mutating func readPeerHello() throws(WireError) -> PeerHello {
        var input = self
        let id: UInt64 = try input.readField("peerHello.id")
        let name = try input.readStringField("peerHello.name")
        let datacenter = try input.readStringField("peerHello.datacenter")
        let peerAddress = try input.readStringField("peerHello.peerAddress")
        let clientAddress = try input.readStringField("peerHello.clientAddress")
        let bootstrapExpect: UInt32 = try input.readField("peerHello.bootstrapExpect")
        let hasState = try input.readBoolField("peerHello.hasState")
        try input.checkFullyConsumed("peer hello")
        self = input
        return PeerHello(
            id: id, name: name, datacenter: datacenter, peerAddress: peerAddress, clientAddress: clientAddress,
            bootstrapExpect: bootstrapExpect, hasState: hasState)
    }
}
