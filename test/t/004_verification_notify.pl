# test/t/004_verification_notify.pl
#
# Verification through the outbox: LISTEN needs no privilege, so the
# notification carries {"outbox_id", "tenant"} and nothing else -- an
# unprivileged listener learns no token, address or link.  The mailer (an
# admin role) claims the mail, which holds the link; the link's token
# verifies the profile once; once the mail is marked sent, the token is in
# no table and it never was in a log line.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('verify');
$node->init;
$node->append_conf('postgresql.conf', qq{
log_statement = none
shared_preload_libraries = 'profile_ext'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION profile_ext;
	SELECT profile.create_tenant('v', '{"verification": true, "required_contract": null}');
	CREATE ROLE nobody LOGIN;
	CREATE ROLE mailer LOGIN;
	SELECT profile.grant_admin('mailer');
});

my $create = q{SELECT profile.create_profile('{"tenantName": "v", "email": "jane@example.com",
	"verificationUrl": "https://app.example/verify"}')->>'id'};

# an unprivileged role listens while the profile is created (and once
# while a create rolls back)
my $listener = $node->background_psql('postgres', extra_params => [ '-U', 'nobody' ]);
$listener->query_safe('LISTEN profile_verification');

$node->safe_psql('postgres', "BEGIN; $create; ROLLBACK;");
my $id = $node->safe_psql('postgres', $create);
like($id, qr/^[0-9a-f-]{36}$/, 'the profile is created');

# psql prints the notifications received with the next result
my $stdout = $listener->query_safe("SELECT 'sync'");
$listener->quit;
my @payloads = $stdout =~ /Asynchronous notification "profile_verification" with payload "(.*?)" received/g;
is(scalar @payloads, 1, 'one notification, none for the create that rolled back');
my $payload = $payloads[0] // '';
like($payload, qr/^\{"outbox_id": \d+, "tenant": "v"\}$/, 'it carries only the outbox id and the tenant');
unlike($payload, qr/pv_|jane|https?:/, 'no token, address or link');
my ($outbox) = $payload =~ /"outbox_id": (\d+)/;

# the mailer claims it and gets the link
my $mail = $node->safe_psql('postgres',
	"SELECT m FROM profile.claim_verification_mails(10) m WHERE (m->>'outbox_id')::bigint = $outbox",
	extra_params => [ '-U', 'mailer' ]);
like($mail, qr/"email": "jane\@example.com"/, 'the mailer gets the address');
my ($token) = $mail =~ /"url": "https:\/\/app\.example\/verify\?token=(pv_[A-Za-z0-9_-]{43})"/;
ok(defined $token, 'and the link with its token');
$token //= 'none';

# an unprivileged role can read neither the outbox nor the mails
my ($ret, undef, $err) = $node->psql('postgres',
	'SELECT * FROM profile_data.verification_outbox', extra_params => [ '-U', 'nobody' ]);
isnt($ret, 0, 'nobody reads the outbox');
($ret, undef, $err) = $node->psql('postgres',
	'SELECT profile.claim_verification_mails()', extra_params => [ '-U', 'nobody' ]);
isnt($ret, 0, 'nobody claims mails');

# following the link
is($node->safe_psql('postgres', qq{SELECT profile.verify_profile('$token')->>'verified'}),
	'true', 'the link verifies the profile');
is($node->safe_psql('postgres', qq{SELECT enabled FROM profile_data.profiles WHERE id = '$id'}),
	't', 'and enables it');
($ret, undef, $err) = $node->psql('postgres', qq{SELECT profile.verify_profile('$token')});
like($err, qr/verification token is unknown, used or expired/, 'a token works once');

# confirmed: the link is erased, and the token is in no table
$node->safe_psql('postgres', "SELECT profile.mark_verification_sent($outbox)",
	extra_params => [ '-U', 'mailer' ]);
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM (SELECT t::text FROM profile_data.verification_tokens t
		UNION ALL SELECT o::text FROM profile_data.verification_outbox o
		UNION ALL SELECT e::text FROM profile_data.audit_events e
		UNION ALL SELECT p::text FROM profile_data.profiles p) x(r) WHERE r LIKE '%$token%'}),
	'0', 'once the mail is marked sent, the token is in no table');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM profile_data.verification_tokens
	 WHERE token_hash = sha256(convert_to('$token', 'UTF8'))}), '1', 'only its hash is stored');

my $log = slurp_file($node->logfile);
unlike($log, qr/\Q$token\E/, 'the token is in no log line');

$node->stop;
done_testing();
