// Package cdrsim simulates the parties a CDR Data Holder talks to during
// Dynamic Client Registration: the CDR Register (its JWKS, its public data
// recipient endpoints and the Software Statement Assertions it signs) and
// Accredited Data Recipients (their JWKS, sector identifier documents and the
// registration requests and client assertions they sign).
//
// Every simulated party is a real HTTPS server on 127.0.0.1 with a certificate
// issued by a throwaway CA, so the code under test exercises its real TLS and
// HTTP stack. The simulators are meant for tests, benchmarks and demo mode;
// all of their methods are safe for concurrent use while the servers serve.
package cdrsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"time"
)

// certLifetime is how long the CA and every certificate it issues are valid.
const certLifetime = 24 * time.Hour

// clockSkew backdates NotBefore so that peers with a slightly slow clock accept
// freshly issued certificates.
const clockSkew = 5 * time.Minute

// CA is a throwaway certificate authority for the simulated servers. It issues
// server certificates for the simulators (and for the code under test) and
// client certificates for mutual TLS tests. A CA is immutable after NewCA and
// safe for concurrent use.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	pool *x509.CertPool
}

// NewCA creates a self-signed ECDSA P-256 root certificate valid for 24 hours.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cdrsim: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "cdrsim test root CA", Organization: []string{"cdrsim"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("cdrsim: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cdrsim: parse CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{
		cert: cert,
		key:  key,
		pem:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pool: pool,
	}, nil
}

// Pool returns a fresh certificate pool holding only the root certificate.
// Callers may add to it without affecting the CA.
func (ca *CA) Pool() *x509.CertPool { return ca.pool.Clone() }

// PEM returns the root certificate PEM-encoded, as expected by a CA bundle
// file (for instance dcrconsole's outbound.ca_file).
func (ca *CA) PEM() []byte { return append([]byte(nil), ca.pem...) }

// ServerTLSConfig issues a server certificate for hosts (IP addresses or DNS
// names; "127.0.0.1", "::1" and "localhost" when none are given) and returns a
// TLS 1.2+ server configuration using it. The configuration also requests, and
// verifies against this CA, an optional client certificate
// (tls.VerifyClientCertIfGiven), so servers under test can check mutual TLS;
// set ClientAuth to change that.
func (ca *CA) ServerTLSConfig(hosts ...string) (*tls.Config, error) {
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0], Organization: []string{"cdrsim"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	cert, err := ca.issue(tmpl)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    ca.Pool(),
	}, nil
}

// ClientCertificate issues a client certificate (ExtKeyUsageClientAuth) with
// the given subject common name, for mutual TLS tests.
func (ca *CA) ClientCertificate(commonName string) (tls.Certificate, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName, Organization: []string{"cdrsim"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ca.issue(tmpl)
}

// ClientTLSConfig returns a TLS 1.2+ client configuration that trusts this CA
// and presents certs (if any) as client certificates.
func (ca *CA) ClientTLSConfig(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		RootCAs:      ca.Pool(),
		Certificates: append([]tls.Certificate(nil), certs...),
	}
}

// Client returns an HTTP client that trusts this CA and presents certs (if
// any) as client certificates. Its timeout is 10 seconds.
func (ca *CA) Client(certs ...tls.Certificate) *http.Client {
	tr := &http.Transport{ForceAttemptHTTP2: true}
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = dt.Clone()
	}
	tr.TLSClientConfig = ca.ClientTLSConfig(certs...)
	tr.Proxy = nil
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// issue completes tmpl (serial, validity, key) and signs it with the CA key.
func (ca *CA) issue(tmpl *x509.Certificate) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cdrsim: generate certificate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-clockSkew)
	tmpl.NotAfter = now.Add(certLifetime)
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cdrsim: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cdrsim: parse certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// randomSerial returns a random positive 128-bit certificate serial number.
func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("cdrsim: certificate serial: %w", err)
	}
	// Serial numbers must be positive.
	return serial.Add(serial, big.NewInt(1)), nil
}
