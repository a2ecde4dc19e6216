# test/t/004_verification_notify.pl
#
# Verification through the notification: a mailer LISTENing on
# profile_verification gets {outbox_id, profile_id, tenant, email, url} when
# the creating transaction commits (nothing if it rolls back); the url's
# token verifies the profile once; the token is in no table and no log.
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
});

my $create = q{SELECT profile.create_profile('{"tenantName": "v", "email": "jane@example.com",
	"verificationUrl": "https://app.example/verify"}')->>'id'};

# rolled back: no notification
my ($ret, $out) = $node->psql('postgres', "LISTEN profile_verification; BEGIN; $create; ROLLBACK;");
unlike($out, qr/Asynchronous notification/, 'no notification when the create rolls back');

($ret, $out) = $node->psql('postgres', "LISTEN profile_verification; $create;");
is($ret, 0, 'the profile is created');
my ($id) = $out =~ /^([0-9a-f-]{36})$/m;
my ($payload) = $out =~ /Asynchronous notification "profile_verification" with payload "(.*)" received/;
ok(defined $payload, 'the mailer is notified');
like($payload, qr/"profile_id": "$id"/, 'for that profile');
like($payload, qr/"tenant": "v", "email": "jane\@example.com"/, 'with tenant and email');
my ($outbox) = $payload =~ /"outbox_id": (\d+)/;
my ($url, $token) = $payload =~ /"url": "(https:\/\/app\.example\/verify\?token=(pv_[A-Za-z0-9_-]{43}))"/;
ok(defined $token, 'and the link with its token');

# the token is nowhere but in the notification
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM (SELECT t::text FROM profile_data.verification_tokens t
		UNION ALL SELECT o::text FROM profile_data.verification_outbox o
		UNION ALL SELECT e::text FROM profile_data.audit_events e
		UNION ALL SELECT p::text FROM profile_data.profiles p) x(r) WHERE r LIKE '%$token%'}),
	'0', 'the token is in no table');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM profile_data.verification_tokens
	 WHERE token_hash = sha256(convert_to('$token', 'UTF8'))}), '1', 'only its hash is stored');

# following the link
is($node->safe_psql('postgres', qq{SELECT profile.verify_profile('$token')->>'verified'}),
	'true', 'the link verifies the profile');
is($node->safe_psql('postgres', qq{SELECT enabled FROM profile_data.profiles WHERE id = '$id'}),
	't', 'and enables it');
($ret, undef, my $err) = $node->psql('postgres', qq{SELECT profile.verify_profile('$token')});
like($err, qr/verification token is unknown, used or expired/, 'a token works once');
$node->safe_psql('postgres', "SELECT profile.mark_verification_sent($outbox)");
is($node->safe_psql('postgres', "SELECT sent_at IS NOT NULL FROM profile_data.verification_outbox WHERE id = $outbox"),
	't', 'the mailer marks the mail sent');

my $log = slurp_file($node->logfile);
unlike($log, qr/\Q$token\E/, 'the token is in no log line');

$node->stop;
done_testing();
