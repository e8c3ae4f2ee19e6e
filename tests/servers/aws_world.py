"""Seeds and inspects the old CloverDX deployment in a moto server, for the apply tests.

  aws_world.py seed ENDPOINT     creates a VPC and subnet, the old instance with its data volume,
                                 the RDS system database and an Elastic IP on the old instance;
                                 prints their ids as JSON
  aws_world.py delete-db ENDPOINT DB
                                 deletes a DB instance (a resource that disappears after the
                                 preflight, from a hook)
  aws_world.py stop-instance ENDPOINT INSTANCE
                                 stops an instance
  aws_world.py admit ENDPOINT GROUP CIDR
                                 lets CIDR into GROUP on 5432 (a database group that admits a
                                 whole network)
  aws_world.py inspect ENDPOINT  prints what the tests assert on: instances, volumes, snapshots,
                                 DB instances and snapshots, addresses, stacks, change sets
"""
import json
import sys

import boto3

REGION = "eu-west-1"


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name=REGION,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client("ec2", **kw), boto3.client("rds", **kw), boto3.client("cloudformation", **kw)


def seed(endpoint):
    ec2, rds, _ = clients(endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="eu-west-1a")["Subnet"]["SubnetId"]
    subnet_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.2.0/24", AvailabilityZone="eu-west-1b")["Subnet"]["SubnetId"]
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.create_key_pair(KeyName="ops")
    # The offering's groups: the server admits 22/80/443 from the office network; the system
    # database admits the server's group on 5432.
    server_sg = ec2.create_security_group(GroupName="clover-server", Description="CloverDX server", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=server_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "198.51.100.0/24"}]}
        for port in (22, 80, 443)])
    db_sg = ec2.create_security_group(GroupName="clover-db", Description="CloverDX system database", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=db_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": server_sg}]}])
    instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="m6i.xlarge",
                                 SubnetId=subnet, KeyName="ops", SecurityGroupIds=[server_sg])["Instances"][0]["InstanceId"]
    volume = ec2.create_volume(AvailabilityZone="eu-west-1a", Size=128, VolumeType="gp3")["VolumeId"]
    ec2.attach_volume(VolumeId=volume, InstanceId=instance, Device="/dev/sdf")
    rds.create_db_subnet_group(DBSubnetGroupName="clover-db-subnets", DBSubnetGroupDescription="clover",
                               SubnetIds=[subnet, subnet_b])
    rds.create_db_instance(DBInstanceIdentifier="clover-prod-db", DBInstanceClass="db.m5.large",
                           Engine="postgres", MasterUsername="clover", MasterUserPassword="not-a-secret-1",
                           AllocatedStorage=100, DBSubnetGroupName="clover-db-subnets",
                           VpcSecurityGroupIds=[db_sg], MultiAZ=False)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=allocation, InstanceId=instance)
    print(json.dumps({"vpc": vpc, "subnet": subnet, "ami": ami, "instance": instance,
                      "volume": volume, "allocation": allocation, "server_sg": server_sg, "db_sg": db_sg}))


def admit(endpoint, group, cidr):
    ec2, _, _ = clients(endpoint)
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": cidr}]}])


def tolerant(call, default):
    """moto answers 500 for some stacks it failed to build; report what it can."""
    try:
        return call()
    except Exception as e:  # noqa: BLE001 - any emulator failure is data for the test
        return default if default is not None else {"error": str(e)}


def inspect(endpoint):
    ec2, rds, cfn = clients(endpoint)
    stacks = cfn.describe_stacks().get("Stacks", [])
    change_sets = {}
    for s in stacks:
        for cs in tolerant(lambda: cfn.list_change_sets(StackName=s["StackName"]).get("Summaries", []), []):
            d = tolerant(lambda: cfn.describe_change_set(StackName=s["StackName"], ChangeSetName=cs["ChangeSetId"]), {})
            change_sets[s["StackName"]] = {p["ParameterKey"]: p.get("ParameterValue") for p in d.get("Parameters", [])}
    out = {
        "instances": ec2.describe_instances()["Reservations"],
        "volumes": ec2.describe_volumes()["Volumes"],
        "snapshots": ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"],
        "db_instances": rds.describe_db_instances()["DBInstances"],
        "db_snapshots": rds.describe_db_snapshots()["DBSnapshots"],
        "addresses": ec2.describe_addresses()["Addresses"],
        "security_groups": ec2.describe_security_groups()["SecurityGroups"],
        "stacks": [{"StackName": s["StackName"], "StackStatus": s["StackStatus"],
                    "Outputs": {o["OutputKey"]: o.get("OutputValue") for o in s.get("Outputs", [])},
                    "Parameters": {p["ParameterKey"]: p.get("ParameterValue") for p in s.get("Parameters", [])}}
                   for s in stacks],
        "stack_resources": {s["StackName"]: [{"LogicalResourceId": r["LogicalResourceId"],
                                              "ResourceType": r["ResourceType"],
                                              "PhysicalResourceId": r.get("PhysicalResourceId")}
                                             for r in tolerant(lambda: cfn.list_stack_resources(
                                                 StackName=s["StackName"])["StackResourceSummaries"], [])]
                            for s in stacks},
        "change_set_parameters": change_sets,
    }
    print(json.dumps(out, default=str))


def delete_db(endpoint, db):
    _, rds, _ = clients(endpoint)
    rds.delete_db_instance(DBInstanceIdentifier=db, SkipFinalSnapshot=True)


def stop_instance(endpoint, instance):
    ec2, _, _ = clients(endpoint)
    ec2.stop_instances(InstanceIds=[instance])


if __name__ == "__main__":
    {"seed": seed, "inspect": inspect, "delete-db": delete_db, "stop-instance": stop_instance,
     "admit": admit}[sys.argv[1]](*sys.argv[2:])
