import Foundation
import SwiftASN1
import X509

/// Reading certificates and keys from PEM text and files, with errors that name the source.
enum PEM {
    /// The whole text of a file.
    /// - Throws: `missing` (default ``CairnTLSError/Code/unreadablePEM``) if it does not exist,
    ///   ``CairnTLSError/Code/unreadablePEM`` if it cannot be read as UTF-8.
    static func readFile(
        _ path: String,
        what: String,
        missing: CairnTLSError.Code = .unreadablePEM,
        hint: String = ""
    ) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CairnTLSError(missing, "\(what) \(path) does not exist\(hint)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CairnTLSError(.unreadablePEM, "cannot read \(what) \(path) (permission denied or not a file)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CairnTLSError(.unreadablePEM, "\(what) \(path) is not PEM text")
        }
        return text
    }

    /// Every `CERTIFICATE` block in `text`, in order; at least one.
    static func certificates(_ text: String, source: String) throws -> [Certificate] {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: text)
        } catch {
            throw CairnTLSError(.unreadablePEM, "\(source) is not valid PEM: \(error)")
        }
        let blocks = documents.filter { $0.discriminator == Certificate.defaultPEMDiscriminator }
        guard !blocks.isEmpty else {
            throw CairnTLSError(.unreadablePEM, "\(source) holds no PEM CERTIFICATE block")
        }
        return try blocks.map { block in
            do {
                return try Certificate(derEncoded: block.derBytes)
            } catch {
                throw CairnTLSError(.unreadablePEM, "\(source) holds a certificate that cannot be parsed: \(error)")
            }
        }
    }

    /// The first certificate in `text`.
    static func certificate(_ text: String, source: String) throws -> Certificate {
        try self.certificates(text, source: source)[0]
    }

    /// The private key in `text` (PKCS #8 `PRIVATE KEY`, SEC 1 `EC PRIVATE KEY` or RSA).
    static func privateKey(_ text: String, source: String) throws -> Certificate.PrivateKey {
        do {
            return try Certificate.PrivateKey(pemEncoded: text)
        } catch {
            throw CairnTLSError(.unreadablePEM, "\(source) does not hold a PEM private key: \(error)")
        }
    }

    /// The DER bytes of a certificate.
    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }
}
