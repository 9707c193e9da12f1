// libFuzzer entry point for the Cairn wire codec. Built by Fuzz/run.sh, never by `swift build`.
//
// Every input is run through:
//   1. the frame decoder over the whole input, and again fed in chunks whose sizes come from the
//      input: both must give the same frames and end with the same error code;
//   2. the payload decoder of each frame's kind;
//   3. every payload decoder on the raw input, and on the input after a 14-byte header (so the
//      golden frames seed the payload decoders directly);
//   4. the preface exchange, as acceptor and as dialer.
// Whatever decodes must re-encode to exactly the bytes it came from (the encoding is canonical).
// A crash, a sanitizer report or a failed `check` is a bug.

import CairnRaft
import CairnWire
import NIOCore

private let allocator = ByteBufferAllocator()

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz invariant violated: \(message())") }
}

/// The frames in `input` and the code of the error that ended them, if any.
private func decodeStream(_ input: ByteBuffer, chunkSizes: [Int]) -> ([Frame], WireError.Code?) {
    var decoder = FrameDecoder(maximumFrameLength: 1 << 20)
    var cumulation = allocator.buffer(capacity: input.readableBytes)
    var remaining = input
    var frames: [Frame] = []
    var chunk = 0
    do {
        while remaining.readableBytes > 0 {
            let size = chunkSizes.isEmpty ? remaining.readableBytes : max(1, chunkSizes[chunk % chunkSizes.count])
            chunk += 1
            var piece = remaining.readSlice(length: min(size, remaining.readableBytes))!
            cumulation.writeBuffer(&piece)
            while let frame = try decoder.decode(buffer: &cumulation) { frames.append(frame) }
        }
        while let frame = try decoder.decodeLast(buffer: &cumulation, seenEOF: true) { frames.append(frame) }
        return (frames, nil)
    } catch {
        return (frames, error.code)
    }
}

/// Decodes a frame's payload; what decodes must re-encode to the same frame.
private func checkFrame(_ frame: Frame) {
    check(frame.flags == 0, "a frame with flags passed the decoder")
    check(frame.length <= 1 << 20, "an oversized frame passed the decoder")
    guard let message = try? WireMessage(decoding: frame) else { return }
    var original = allocator.buffer(capacity: frame.length + 4)
    original.writeFrame(frame)
    var reencoded = allocator.buffer(capacity: frame.length + 4)
    reencoded.writeWireMessage(message)
    check(original == reencoded, "\(message) re-encodes differently")
    let again = try? WireMessage(decoding: Frame(kind: frame.kind, streamID: frame.streamID, payload: reencoded.getSlice(at: 14, length: reencoded.readableBytes - 14)!))
    check(again == message, "\(message) does not survive a second round trip")
}

/// Runs every payload decoder on `payload`; each success must re-encode to `payload`.
private func checkPayloadDecoders(_ payload: ByteBuffer) {
    func roundTrip<T>(_ read: (inout ByteBuffer) throws(WireError) -> T, _ write: (inout ByteBuffer, T) -> Void) {
        var input = payload
        do {
            let value = try read(&input)
            check(input.readableBytes == 0, "a decoder left bytes behind without failing")
            var output = allocator.buffer(capacity: payload.readableBytes)
            write(&output, value)
            check(output == payload, "\(value) re-encodes differently")
        } catch {
            check(input == payload, "a failed decode moved the reader index")
            check(!error.reason.isEmpty, "an error without a reason")
        }
    }
    roundTrip({ (b: inout ByteBuffer) throws(WireError) in try b.readRaftMessage() }, { $0.writeRaftMessage($1) })
    roundTrip({ (b: inout ByteBuffer) throws(WireError) in try b.readClientRequest() }, { $0.writeClientRequest($1) })
    roundTrip({ (b: inout ByteBuffer) throws(WireError) in try b.readClientResponse() }, { $0.writeClientResponse($1) })
    roundTrip({ (b: inout ByteBuffer) throws(WireError) in try b.readPeerHello() }, { $0.writePeerHello($1) })
    roundTrip({ (b: inout ByteBuffer) throws(WireError) in try b.readErrorPayload() }, { $0.writeErrorPayload($1) })
}

/// Runs the preface exchange on `input`, split once at `split`.
private func checkPrefaceExchange(_ input: ByteBuffer, split: Int) {
    let sides: [PrefaceExchange.Side] = [.acceptor(accepting: [.peer, .client]), .dialer(.client)]
    for side in sides {
        var exchange = PrefaceExchange(side: side)
        _ = exchange.activate()
        let first = input.getSlice(at: input.readerIndex, length: min(split, input.readableBytes))!
        let second = input.getSlice(at: input.readerIndex + first.readableBytes, length: input.readableBytes - first.readableBytes)!
        for piece in [first, second] {
            switch exchange.received(piece) {
            case .complete(let peer, _, let leftover):
                check(leftover.readableBytes <= input.readableBytes - Preface.byteCount, "leftover larger than the input")
                check(Preface.supportedVersions.contains(peer.version), "an unsupported version was accepted")
            case .fail(let error, _):
                check(!error.reason.isEmpty, "an error without a reason")
            case .nothing, .send:
                break
            }
        }
        _ = exchange.inputClosed()
        check(exchange.isFinished, "the exchange did not finish at end of input")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = allocator.buffer(bytes: UnsafeRawBufferPointer(start: data, count: size))

    let (frames, error) = decodeStream(input, chunkSizes: [])
    let chunkSizes = input.readableBytesView.prefix(4).map { Int($0 % 32) + 1 }
    let (chunkedFrames, chunkedError) = decodeStream(input, chunkSizes: chunkSizes)
    check(frames == chunkedFrames, "chunked decoding gives other frames")
    check(error == chunkedError, "chunked decoding fails differently: \(String(describing: error)) vs \(String(describing: chunkedError))")
    frames.forEach(checkFrame)

    checkPayloadDecoders(input)
    if input.readableBytes >= Frame.headerSize {
        checkPayloadDecoders(input.getSlice(at: Frame.headerSize, length: input.readableBytes - Frame.headerSize)!)
    }

    checkPrefaceExchange(input, split: Int(input.readableBytesView.first ?? 0) % 12)
    return 0
}
