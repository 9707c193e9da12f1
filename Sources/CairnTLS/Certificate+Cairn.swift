import X509

extension Certificate {
    /// Whether basic constraints say this is a CA.
    var isCertificateAuthority: Bool {
        guard let constraints = try? self.extensions.basicConstraints,
            case .isCertificateAuthority = constraints
        else { return false }
        return true
    }

    var extensionsSubjectKeyIdentifier: ArraySlice<UInt8>? {
        (try? self.extensions.subjectKeyIdentifier)?.keyIdentifier
    }

    /// `"CN=…"`-style subject for messages.
    var subjectSummary: String {
        "\"\(self.subject)\""
    }

    /// The DNS names of the subject alternative names.
    var sanDNSNames: [String] {
        guard let names = try? self.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            if case .dnsName(let dns) = name { return dns }
            return nil
        }
    }

    /// The IP addresses of the subject alternative names.
    var sanIPAddresses: [IPAddress] {
        guard let names = try? self.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            if case .ipAddress(let octets) = name { return IPAddress(bytes: octets.bytes) }
            return nil
        }
    }

    /// Every subject alternative name as text, DNS names then IP addresses, for messages.
    var nameList: String {
        let all = self.sanDNSNames + self.sanIPAddresses.map(\.description)
        return all.isEmpty ? "no names" : all.joined(separator: ", ")
    }
}

extension Certificate {
    /// Whether the extended key usage extension is absent or lists `usage` (or anyExtendedKeyUsage).
    func allowsUsage(_ usage: ExtendedKeyUsage.Usage) -> Bool {
        guard let usages = try? self.extensions.extendedKeyUsage else { return true }
        return usages.contains(usage) || usages.contains(.any)
    }
}
