"""Second factors and passkeys: TOTP, recovery codes, WebAuthn credentials and the pending logins
that wait for a second factor (DESIGN.md, "Second factors and passkeys")."""
